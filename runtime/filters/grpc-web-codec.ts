// The byte-level half of the gRPC-Web filter (grpc-web.ts), as Envoy's grpc_web filter does it:
// base64 for application/grpc-web-text taken off a request body that arrives in chunks of any size
// (a partial quad waits for the next chunk), gRPC frames put into base64 one whole frame at a time
// on the way back, and the trailer frame that carries gRPC's trailers in a gRPC-Web body. Plain
// TypeScript on Uint8Array: no runtime's base64 helpers, no string round trips for the body.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENCODE = new TextEncoder().encode(ALPHABET);
/** byte → its 6-bit value; 64 for "=", 255 for anything else */
const DECODE = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
DECODE[61 /* "=" */] = 64;

/** the gRPC-Web trailer frame's flag byte (PROTOCOL-WEB.md) */
export const TRAILER_FLAG = 0x80;

export class Base64Error extends Error {
  /** Envoy's response-code details for it: a character outside base64, or a length not a multiple of 4 */
  constructor(readonly details: "grpc_base_64_decode_failed" | "grpc_base_64_decode_failed_bad_size") {
    super(details === "grpc_base_64_decode_failed" ? "invalid base64 data" : "invalid base64 data: its length is not a multiple of 4");
  }
}

/** bytes as base64, padded */
export function base64Encode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = ENCODE[n >> 18];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = ENCODE[(n >> 6) & 63];
    out[o++] = ENCODE[n & 63];
  }
  const rest = bytes.length - i;
  if (rest) {
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    out[o++] = ENCODE[n >> 18];
    out[o++] = ENCODE[(n >> 12) & 63];
    out[o++] = rest === 2 ? ENCODE[(n >> 6) & 63] : 61;
    out[o++] = 61;
  }
  return out;
}

/**
 * Decodes whole quads of base64 as they come. Padding may end any quad (a client may encode each
 * message on its own, so "=" can sit mid-stream); anything else outside the alphabet is an error,
 * and so is a stream whose length is not a multiple of 4 (Envoy: padding is mandatory).
 */
export class Base64Decoder {
  private carry = new Uint8Array(4);
  private carried = 0;
  /** the error thrown, kept: the stream's reader may see it only as its own failure */
  error: Base64Error | undefined = undefined;

  push(chunk: Uint8Array): Uint8Array {
    const total = this.carried + chunk.length;
    const out = new Uint8Array(Math.floor(total / 4) * 3);
    let o = 0;
    let i = 0;
    const quad = this.carry;
    while (i < chunk.length) {
      quad[this.carried++] = chunk[i++];
      if (this.carried < 4) continue;
      this.carried = 0;
      const a = DECODE[quad[0]], b = DECODE[quad[1]], c = DECODE[quad[2]], d = DECODE[quad[3]];
      if (a > 63 || b > 63 || c === 255 || d === 255 || (c === 64 && d !== 64)) throw (this.error = new Base64Error("grpc_base_64_decode_failed"));
      out[o++] = (a << 2) | (b >> 4);
      if (c !== 64) out[o++] = ((b & 15) << 4) | (c >> 2);
      if (d !== 64) out[o++] = ((c & 3) << 6) | d;
    }
    return o === out.length ? out : out.subarray(0, o);
  }

  end(): void {
    if (this.carried) throw (this.error = new Base64Error("grpc_base_64_decode_failed_bad_size"));
  }
}

/**
 * A request body of base64 text as the bytes it encodes. An error in the text errors the stream
 * (what was forwarded is aborted) and stays readable in `error`, so the filter can answer 400 as
 * Envoy does when no answer has gone out yet. The client's body is read, not piped: a pipe would
 * cancel it on that error, and cancelling an HTTP/2 request body resets the client's stream, so
 * the 400 would race the reset. It is still cancelled when the decoded stream's reader cancels.
 */
export class Base64Body {
  private readonly decoder = new Base64Decoder();
  readonly stream: ReadableStream<Uint8Array>;

  constructor(body: ReadableStream<Uint8Array>) {
    const decoder = this.decoder;
    const reader = body.getReader();
    this.stream = new ReadableStream<Uint8Array>({
      // reads until a chunk decodes to something: a pull that enqueues nothing is not called again
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) {
            decoder.end();
            return controller.close();
          }
          const bytes = decoder.push(value);
          if (bytes.length) return controller.enqueue(bytes);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }

  /** why the text is not base64, once that is found */
  get error(): Base64Error | undefined {
    return this.decoder.error;
  }
}

/**
 * Splits a gRPC body into whole frames (flag byte, 4-byte big-endian length, message) and hands
 * each on base64-encoded by itself, as Envoy's encodeData does; a partial frame waits for the rest.
 */
export class FrameEncoder {
  private pending = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    let buffer = chunk;
    if (this.pending.length) {
      buffer = new Uint8Array(this.pending.length + chunk.length);
      buffer.set(this.pending);
      buffer.set(chunk, this.pending.length);
    }
    const out: Uint8Array[] = [];
    let at = 0;
    while (buffer.length - at >= 5) {
      const length = ((buffer[at + 1] << 24) >>> 0) + ((buffer[at + 2] << 16) | (buffer[at + 3] << 8) | buffer[at + 4]);
      if (buffer.length - at - 5 < length) break;
      out.push(base64Encode(buffer.subarray(at, at + 5 + length)));
      at += 5 + length;
    }
    this.pending = at === buffer.length ? new Uint8Array(0) : buffer.slice(at);
    return out;
  }
}

/** gRPC's trailers as a gRPC-Web trailer frame: 0x80, the length, then "name:value\r\n" lines */
export function trailerFrame(trailers: Headers): Uint8Array {
  let text = "";
  for (const [name, value] of trailers) text += `${name}:${value}\r\n`;
  const block = encoder.encode(text);
  const frame = new Uint8Array(5 + block.length);
  frame[0] = TRAILER_FLAG;
  new DataView(frame.buffer).setUint32(1, block.length);
  frame.set(block, 5);
  return frame;
}

const encoder = new TextEncoder();
