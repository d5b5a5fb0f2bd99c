// The Web Request and Response at the rim: handlers written against fetch's Request (the CA's Hono API) served
// by dietmesh's own HTTP/1.1 server, which hands the lighter HttpRequest. Off the request path.
import type { HttpRequest, HttpResponse } from "./types.ts";
import { knownBody } from "./known-body.ts";

export function toWebRequest(request: HttpRequest): Request {
  if (request instanceof Request) return request;
  const hasBody = request.body !== null && request.method !== "GET" && request.method !== "HEAD";
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: hasBody ? request.body : null,
    // @ts-ignore: needed for a streamed request body, not yet in every lib.dom
    duplex: "half",
  });
}

/**
 * A Web Response for an HttpResponse: for fetch-shaped callers (tests, tools, the in-process
 * library). A 101 and trailers have no Web form: an upgrade is refused here, trailers are dropped.
 */
export function toWebResponse(response: HttpResponse): Response {
  if (response instanceof Response) return response;
  if (response.upgrade) throw new TypeError("an upgraded (101) response has no Web Response form");
  const body = knownBody(response) ?? response.body;
  return new Response(body as BodyInit | null, { status: response.status, statusText: response.statusText, headers: response.headers });
}
