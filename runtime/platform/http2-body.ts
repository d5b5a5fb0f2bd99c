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
  try {
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (stream.destroyed || stream.closed) return;
        if (!stream.write(value)) await drained(stream);
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
    stream.end();
  } catch {
    // the body's source failed midway: the peer must not take a cut body for a whole one
    if (!stream.destroyed) stream.close(0x2 /* INTERNAL_ERROR */);
  } finally {
    stream.off("close", gone);
  }
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
