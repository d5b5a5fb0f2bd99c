// alphabet-service's gRPC side (alphabet.proto: alphabet.Alphabet/Spell) and the one port that
// carries both protocols. A sidecar knows its app only as --app HOST:PORT and sends gRPC there as
// h2c, everything else as HTTP/1.1, so the app must tell the two apart on one port: a connection
// that opens with the HTTP/2 preface goes to a node:http2 server here, any other is piped to the
// app's HTTP/1.1 server on an internal port (a demo's extra loopback hop, not a hot path).
// The two proto3 messages hold only strings, so they are encoded by hand: no protobuf library.
import * as http2 from "node:http2";
import * as net from "node:net";

export const SPELL_PATH = "/alphabet.Alphabet/Spell";

/** gRPC status codes used here */
const OK = 0, INVALID_ARGUMENT = 3, NOT_FOUND = 5, UNIMPLEMENTED = 12, INTERNAL = 13;

export type Speller = (character: string, language: string, requestId: string) => string | undefined;

/** proto3 string fields of one message, by field number (other wire types skipped) */
export function decodeStrings(bytes: Uint8Array): Map<number, string> {
  const fields = new Map<number, string>();
  let i = 0;
  const varint = () => {
    let value = 0, shift = 0, b: number;
    do {
      if (i >= bytes.length) throw new Error("truncated varint");
      b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return value;
  };
  while (i < bytes.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const length = varint();
      if (i + length > bytes.length) throw new Error("truncated field");
      fields.set(Math.floor(key / 8), new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + length)));
      i += length;
    } else throw new Error(`wire type ${wire}`);
  }
  return fields;
}

/** one proto3 string field (number < 16, length < 2^21) */
export function encodeString(field: number, value: string): Uint8Array {
  const text = new TextEncoder().encode(value);
  const length: number[] = [];
  for (let n = text.length; ; n >>>= 7) {
    if (n < 0x80) { length.push(n); break; }
    length.push((n & 0x7f) | 0x80);
  }
  return new Uint8Array([(field << 3) | 2, ...length, ...text]);
}

/** a gRPC length-prefixed message: no compression flag, 4-byte big-endian length */
function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function answer(stream: http2.ServerHttp2Stream, status: number, message: string, reply?: Uint8Array): void {
  const trailers = { "grpc-status": String(status), ...(message ? { "grpc-message": encodeURIComponent(message) } : {}) };
  if (!reply) {
    // trailers-only: the status in the one HEADERS frame
    stream.respond({ ":status": 200, "content-type": "application/grpc", ...trailers }, { endStream: true });
    return;
  }
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(trailers));
  stream.end(frame(reply));
}

function onStream(spell: Speller, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on("error", () => {});
  if (headers[":path"] !== SPELL_PATH) {
    stream.resume();
    answer(stream, UNIMPLEMENTED, `unknown method ${headers[":path"]}`);
    return;
  }
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => {
    try {
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        answer(stream, INTERNAL, "expected one uncompressed message");
        return;
      }
      const fields = decodeStrings(body.subarray(5));
      const character = fields.get(1) ?? "";
      if ([...character].length !== 1) {
        answer(stream, INVALID_ARGUMENT, "expected one character");
        return;
      }
      const word = spell(character, fields.get(2) ?? "", String(headers["x-request-id"] ?? "-"));
      if (word === undefined) answer(stream, NOT_FOUND, `no word for "${character}"`);
      else answer(stream, OK, "", encodeString(1, word));
    } catch (error) {
      answer(stream, INTERNAL, `bad request message: ${(error as Error).message}`);
    }
  });
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Listens on host:port for both protocols; HTTP/1.1 connections go to http1Port on host. */
export function listenBoth(host: string, port: number, http1Port: number, spell: Speller): Promise<{ port: number }> {
  const h2 = http2.createServer();
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => onStream(spell, stream, headers));
  const server = net.createServer((socket) => {
    socket.on("error", () => socket.destroy());
    let seen = Buffer.alloc(0);
    const first = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      // undecided while what came so far is a prefix of the preface
      const n = Math.min(seen.length, PREFACE.length);
      const prefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (prefix && seen.length < PREFACE.length) return;
      socket.off("data", first);
      socket.pause();
      if (prefix) {
        socket.unshift(seen);
        h2.emit("connection", socket);
        socket.resume();
        return;
      }
      const upstream = net.connect(http1Port, host, () => {
        upstream.write(seen);
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      });
      upstream.on("error", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
    };
    socket.on("data", first);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve({ port: (server.address() as net.AddressInfo).port }));
  });
}
