// The HTTP/2 data listener (h2c, prior knowledge): each stream the platform's listener accepts is
// handed to the chain as an HttpRequest (protocol "h2", Host from :authority, the request's
// trailers), and the chain's HttpResponse is written back with its body streamed and its
// trailers. A gRPC request gets local replies in gRPC form (HTTP 200 + grpc-status). The same
// stream handling serves h2c connections that HTTP/1.1 listeners hand over (preface.ts) and TLS
// connections that chose h2 by ALPN. Every one of them is held to the listener's request-head
// limits (--max-request-headers, --max-request-headers-kb) as Envoy's HTTP/2 codec holds a stream:
// fields counted with the pseudo-headers, names and values summed, and a block over either reset
// (RST_STREAM INTERNAL_ERROR) before it becomes a request — not a 431, which Envoy sends only on
// HTTP/1.1; a trailer block is held to the same limits on its own, and one over them resets the
// stream when it arrives, failing the request's body so nothing forwarded completes
// (runtime/platform/http2-head-limits.ts).
import { platform, type Server } from "../../platform/index.ts";
import type { ConnInfo, H2Head, H2ServerStream } from "../../platform/types.ts";
import type { DataHandler, HttpRequest, HttpResponse } from "../types.ts";
import { DEFAULT_HEAD_LIMITS, type HeadLimits, type RequestHead } from "../http1/request-head.ts";
import { requestUrl } from "../http1/request-url.ts";
import { grpcLocalReply, localReply } from "../local-reply.ts";
import { ProxyError } from "../errors.ts";
import { h2Fields, headersOfHead, isGrpc } from "./fields.ts";

export interface Http2ListenOptions {
  hostname: string;
  port: number;
  handler: DataHandler;
  log(message: string): void;
  /** default: Envoy's (100 fields, 60 KiB) */
  limits?: HeadLimits;
}

export async function listenHttp2(options: Http2ListenOptions): Promise<Server> {
  const { log } = options;
  return platform.serveHttp2({
    hostname: options.hostname,
    port: options.port,
    onStream: streamHandler(options.handler, (error) => {
      log(`listener ${options.hostname}:${options.port}: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal"));
    }),
    limits: options.limits ?? DEFAULT_HEAD_LIMITS,
  });
}

/** streamHandler carrying the limits its streams are held to: what a TLS listener serves ALPN h2 with */
export function h2Streams(handler: DataHandler, failed: (error: unknown) => HttpResponse, limits: HeadLimits = DEFAULT_HEAD_LIMITS): ((stream: H2ServerStream, conn: ConnInfo) => void) & { readonly limits: HeadLimits } {
  return Object.assign(streamHandler(handler, failed), { limits });
}

/**
 * What every HTTP/2 stream goes through, on an h2c port or on a connection an HTTP/1.1 listener
 * handed over: the handler's response (failed's for a throw) written back, in gRPC form for a
 * gRPC request's local replies.
 */
export function streamHandler(handler: DataHandler, failed: (error: unknown) => HttpResponse): (stream: H2ServerStream, conn: ConnInfo) => void {
  return (stream, conn) => {
    const request = toRequest(stream, conn.secure ? "https" : "http");
    if (!request) return stream.respond({ ":status": "400" }, null);
    const grpc = isGrpc(request.headers);
    let response: HttpResponse | Promise<HttpResponse>;
    try {
      response = handler(request, conn);
    } catch (error) {
      response = failed(error);
    }
    const write = (r: HttpResponse) => respond(stream, grpc ? grpcLocalReply(r) : r, request.method === "HEAD");
    if (response instanceof Promise) response.then(write, (error) => write(failed(error)));
    else write(response);
  };
}

/** the stream as an HttpRequest; undefined when its head is malformed (no method, path or authority) */
function toRequest(stream: H2ServerStream, scheme: string): HttpRequest | undefined {
  const head = stream.head;
  const method = head[":method"];
  const path = head[":path"];
  const authority = head[":authority"] ?? head.host;
  if (typeof method !== "string" || typeof path !== "string" || typeof authority !== "string" || method === "CONNECT") return undefined;
  // the same URL rules as HTTP/1.1 (normalized path, valid authority), so routes match alike; the
  // scheme is the connection's (TLS or not), as Envoy sets x-forwarded-proto, not the client's :scheme
  const url = requestUrl({ method, target: path, host: authority } as RequestHead, scheme);
  if (typeof url !== "string") return undefined;
  const headers = headersOfHead(head);
  headers.set("host", authority);
  return { method, url, rawTarget: path, headers, body: stream.body, trailers: stream.trailers.then((t) => t && headersOfHead(t)), protocol: "h2" };
}

const NO_BODY = new Set([204, 304]);

function respond(stream: H2ServerStream, response: HttpResponse, isHead: boolean): void {
  const head = h2Fields(response.headers, { ":status": String(response.status) });
  let body = response.body;
  if (body && (isHead || NO_BODY.has(response.status))) {
    void body.cancel().catch(() => {});
    body = null;
  }
  const trailers = response.trailers?.then((t) => (t ? h2Fields(t, {}) : undefined));
  stream.respond(head, body, trailers as Promise<H2Head | undefined> | undefined);
}
