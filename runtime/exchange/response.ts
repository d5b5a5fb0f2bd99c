// A response as dietmesh's own clients and filters make it: the HttpResponse fields and nothing
// else (no Web Response, whose constructor refuses a 101 and which has no trailers). Filters that
// must change an immutable fetch Response's headers rebuild it as one of these, keeping its
// trailers and upgrade.
import type { ByteChannel, HttpResponse } from "./types.ts";

export class MeshResponse implements HttpResponse {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
    readonly body: ReadableStream<Uint8Array> | null,
    readonly trailers?: Promise<Headers | undefined>,
    readonly upgrade?: ByteChannel,
  ) {}
}

/** response with other headers, everything else kept */
export function withHeaders(response: HttpResponse, headers: Headers): HttpResponse {
  return new MeshResponse(response.status, response.statusText, headers, response.body, response.trailers, response.upgrade);
}
