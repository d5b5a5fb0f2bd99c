// A node:stream Readable (a request or response body from node:http/https) as a web
// ReadableStream, with backpressure: the node stream is paused while the web stream's queue is
// full and resumed when it is read. Used by the mesh listener and the TLS fetch.
import type { Readable } from "node:stream";

export function webStreamOf(source: Readable, onAborted: () => Error): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      source.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      });
      source.on("end", () => controller.close());
      source.on("error", (error) => controller.error(error));
      source.on("aborted", () => controller.error(onAborted()));
    },
    pull() {
      source.resume();
    },
    cancel() {
      source.destroy();
    },
  }, { highWaterMark: 8 });
}
