// An upstream request as an HTTP/2 stream's head (pseudo-headers from the URL and Host, fields as
// HTTP/2 allows them) and an HTTP/2 response as the HttpResponse the router forwards, its
// trailers (gRPC's status) included.
import type { H2ClientResponse, H2Head, UpstreamRequest } from "../../platform/types.ts";
import type { HttpResponse } from "../../exchange/types.ts";
import { MeshResponse } from "../../exchange/response.ts";
import { h2Fields, headersOfHead, isGrpc } from "../../exchange/http2/fields.ts";

export function parseAddress(address: string): { hostname: string; port: number } {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    return { hostname: address.slice(1, close), port: address.charCodeAt(close + 1) === 58 ? Number(address.slice(close + 2)) : 80 };
  }
  const colon = address.lastIndexOf(":");
  return colon < 0 ? { hostname: address, port: 80 } : { hostname: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

export interface H2Request {
  head: H2Head;
  body: ReadableStream<Uint8Array> | null;
  trailers: Promise<H2Head | undefined> | undefined;
}

export function toH2Request(request: UpstreamRequest, address: string): H2Request {
  const url = request.url;
  const authorityStart = url.indexOf("//") + 2;
  const pathStart = url.indexOf("/", authorityStart);
  const head: H2Head = {
    ":method": request.method,
    ":scheme": "http",
    ":authority": request.headers.get("host") ?? address,
    ":path": pathStart < 0 ? "/" : url.slice(pathStart),
  };
  h2Fields(request.headers, head);
  // the proxy drops TE as hop-by-hop; gRPC servers may insist on "te: trailers" (gRPC over HTTP/2)
  if (isGrpc(request.headers)) head.te = "trailers";
  // no body, no trailers: the HEADERS frame ends the stream (an HTTP/2 request that ended with its
  // head has none to forward)
  const trailers = request.body ? request.trailers?.then((t) => (t ? h2Fields(t, {}) : undefined)) : undefined;
  return { head, body: request.body, trailers };
}

export function toResponse(response: H2ClientResponse): HttpResponse {
  const status = Number(response.head[":status"]);
  const headers = headersOfHead(response.head);
  // grpc-status in the head: a gRPC Trailers-Only response, which nothing follows. Some servers
  // still end it with an empty DATA frame; passed on as a body and empty trailers, a gRPC client
  // would take the head for initial metadata and find no status. So it goes on as one HEADERS frame.
  if (!response.body || headers.has("grpc-status")) {
    void response.body?.cancel().catch(() => {});
    return new MeshResponse(status, "", headers, null);
  }
  return new MeshResponse(status, "", headers, response.body, response.trailers.then((t) => (t ? headersOfHead(t) : undefined)));
}
