// Sending a web body and its trailers on a node:http2 stream (both runtimes implement node:http2):
// chunks written as they come, waiting for "drain" when the stream's buffer is full, so a slow
// reader slows the writer instead of growing memory; trailers as a trailing HEADERS frame.
import type { Http2Stream } from "node:http2";
import type { H2Head } from "./types.ts";

/**
 * Writes body (may be null) then ends the stream; with trailers (the stream was opened or answered
 * with waitForTrailers) sends them, an empty set becoming a bare END_STREAM. Resolves when done;
 * a body that fails resets the stream, and a stream that closes first cancels the body.
 */
export async function sendBody(stream: Http2Stream, body: ReadableStream<Uint8Array> | null, trailers: Promise<H2Head | undefined> | undefined): Promise<void> {
  const reader = body?.getReader();
  const gone = () => void reader?.cancel().catch(() => {});
  stream.once("close", gone);
  // With trailers to follow, a chunk is held while the body may end in the same turn, so the last
  // one goes out with end(): Bun's node:http2 (waitForTrailers) otherwise adds an empty DATA frame
  // without END_STREAM, which Node's peers (grpc-js) count as an invalid frame (an empty-frame
  // flood guard) and, after 1000 on one connection, answer with GOAWAY. A chunk followed by more,
  // or by nothing yet (a streaming call waiting on the other side), is written at once.
  let held: Uint8Array | undefined;
  try {
    if (reader) {
      for (;;) {
        const next = reader.read();
        if (held && !(await endsThisTurn(next))) {
          if (!stream.write(held)) await drained(stream);
          held = undefined;
        }
        const { done, value } = await next;
        if (done) break;
        if (stream.destroyed || stream.closed) return;
        if (held && !stream.write(held)) await drained(stream);
        held = undefined;
        if (trailers) held = value;
        else if (!stream.write(value)) await drained(stream);
      }
    }
    if (stream.destroyed || stream.closed) return;
    if (trailers) {
      const sent = await trailers.catch(() => undefined);
      stream.once("wantTrailers", () => {
        try {
          stream.sendTrailers(sent ?? {});
        } catch {
          stream.close();
        }
      });
    }
    if (held) stream.end(held);
    else stream.end();
  } catch {
    // the body's source failed midway: the peer must not take a cut body for a whole one
    if (!stream.destroyed) stream.close(0x2 /* INTERNAL_ERROR */);
  } finally {
    stream.off("close", gone);
  }
}

/** whether read settles as the body's end before the event loop's next turn (the global
 * setImmediate of both runtimes: importing node:timers cost ~1 ms of every cold start) */
function endsThisTurn(read: Promise<{ done: boolean }>): Promise<boolean> {
  return Promise.race([read.then((r) => r.done, () => false), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

function drained(stream: Http2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** a content-length the body must match (RFC 9113 §8.1.1): Bun's node:http2 does not check it */
export interface DeclaredLength {
  length: number;
  mismatch(received: number): Error;
}

/**
 * An HTTP/2 stream's incoming body as a web stream, with backpressure (the node stream paused while
 * the web stream's queue is full). Settled once: under load Bun's node:http2 can emit "data" after
 * the stream was reset or ended, which must not reach a closed controller (an uncaught throw there
 * ends the process); a stream closed without "end" is an abort, so the reader never hangs.
 */
export function h2BodyStream(source: Http2Stream, onAborted: () => Error, declared?: DeclaredLength): ReadableStream<Uint8Array> {
  let settled = false;
  let received = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        controller.error(error);
      };
      source.on("data", (chunk: Uint8Array) => {
        if (settled) return;
        received += chunk.byteLength;
        if (declared && received > declared.length) {
          source.close(0x1 /* PROTOCOL_ERROR */);
          return fail(declared.mismatch(received));
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      });
      source.on("end", () => {
        if (settled) return;
        if (declared && received !== declared.length) return fail(declared.mismatch(received));
        settled = true;
        controller.close();
      });
      source.on("error", fail);
      // the error is built only for a body that did not end: "close" follows every stream, and an
      // Error per call (its stack captured) was 1 % of a gRPC sidecar's profile
      source.on("aborted", () => settled || fail(onAborted()));
      source.on("close", () => settled || fail(onAborted()));
    },
    pull() {
      source.resume();
    },
    cancel() {
      settled = true;
      source.destroy();
    },
  }, { highWaterMark: 8 });
}
