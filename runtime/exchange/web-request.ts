// The Web Request at the rim: handlers written against fetch's Request (the CA's Hono API) served
// by dietmesh's own HTTP/1.1 server, which hands the lighter HttpRequest. Off the request path.
import type { HttpRequest } from "./types.ts";

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
