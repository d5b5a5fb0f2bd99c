// Responses whose whole body is already in memory, and its bytes: dietmesh's HTTP/1.1 client makes
// one when a body arrived with its head, and local replies are small strings. dietmesh's server
// writes such a body straight from the bytes — no stream reader, no await — with the head in the
// same write (measured: the stream machinery was about a tenth of the server's time per request).
import type { HttpResponse } from "./types.ts";

const bodies = new WeakMap<object, Uint8Array>();

/**
 * An HttpResponse holding its body as bytes: what the HTTP/1.1 client hands back for a body that
 * came whole. No Web Response is built (its constructor was ~2 % of a sidecar's time); a stream is
 * made only if something asks for `body`.
 */
export class BytesResponse implements HttpResponse {
  private stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    /** the whole body; null when there is none */
    readonly bytes: Uint8Array | null,
  ) {}

  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream !== undefined) return this.stream;
    const bytes = this.bytes;
    this.stream = bytes === null ? null : new ReadableStream<Uint8Array>({
      start(controller) {
        if (bytes.byteLength) controller.enqueue(bytes);
        controller.close();
      },
    });
    return this.stream;
  }
}

export function knownBody(response: object): Uint8Array | undefined {
  if (response instanceof BytesResponse) return response.bytes ?? undefined;
  return bodies.get(response);
}

/** a Response for bytes already complete, whose bytes the server may write directly */
export function responseOfBytes(bytes: Uint8Array, init: ResponseInit): Response {
  const response = new Response(bytes as Uint8Array<ArrayBuffer>, init);
  bodies.set(response, bytes);
  return response;
}
