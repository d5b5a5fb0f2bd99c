// Envoy's gRPC-Web filter (envoy.filters.http.grpc_web), which Istio adds to the HTTP connection
// manager of a port whose protocol is GRPC-WEB: a browser's gRPC-Web call becomes a gRPC call to
// the upstream, and the gRPC answer goes back as gRPC-Web (github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md).
//
// Request (content-type exactly application/grpc-web, -web+proto, -web-text or -web-text+proto,
// as Envoy matches it; anything else passes untouched): content-type application/grpc, content-length
// dropped, grpc-accept-encoding "identity,deflate,gzip" when absent, and a -text body base64-decoded
// as it streams. The request's headers are the upstream's now, so the router sends it as any gRPC
// call (te: trailers, HTTP/2 to a port that speaks it, the grpc-timeout deadline).
// Response: content-type application/grpc-web+proto, or -web-text+proto when the request's Accept
// asked for text (Envoy decides by Accept, not by the request's content-type), content-length
// dropped. A gRPC answer keeps its body and gets its trailers appended as a trailer frame (for
// text, each whole frame base64-encoded on its own); a Trailers-Only answer keeps grpc-status in its
// head. Any other answer — a local reply (404 NR, 503, a fault's abort), an upstream that does not
// speak gRPC — keeps its HTTP status and gets grpc-status (Envoy's HTTP → gRPC mapping) and
// grpc-message (its body, up to 16 KiB, percent-encoded) in its head, with an empty body; one with
// no body at all goes on as it is, only its content-type changed.
//
// It wraps the rest of the chain, as CORS does, because it has a response half; it sits where
// Istio puts it: after JWT and RBAC (their 401/403 go out as plain HTTP, as from Envoy) and before
// routing, fault and CORS. Only the chains of GRPC-WEB ports have it, chosen when the listener is
// built: no other port pays for the content-type check.
import type { HttpRequest, HttpResponse } from "../exchange/types.ts";
import { MeshResponse } from "../exchange/response.ts";
import { HeaderList } from "../exchange/header-list.ts";
import { knownBody } from "../exchange/known-body.ts";
import { grpcMessageOf, grpcStatusForHttp, localReply } from "../exchange/local-reply.ts";
import { Base64Body, type Base64Error, FrameEncoder, trailerFrame } from "./grpc-web-codec.ts";
import { ProxyError } from "../exchange/errors.ts";
import type { Chain, Exchange, Terminal } from "./chain.ts";

const BINARY = 1;
const TEXT = 2;
/** the request content-types Envoy translates, exactly as written (its match is case-sensitive) */
const KINDS: Record<string, number> = {
  "application/grpc-web": BINARY,
  "application/grpc-web+proto": BINARY,
  "application/grpc-web-text": TEXT,
  "application/grpc-web-text+proto": TEXT,
};
const GRPC_WEB_PROTO = "application/grpc-web+proto";
const GRPC_WEB_TEXT_PROTO = "application/grpc-web-text+proto";
/** Envoy's bound on a non-gRPC body turned into grpc-message */
const MAX_MESSAGE_BYTES = 16384;

/** next: routing and what follows it */
export function grpcWebFilter(next: Chain): Terminal {
  return function grpcWeb(exchange) {
    const type = exchange.facts.headers.get("content-type");
    const kind = type === null ? undefined : KINDS[type];
    if (kind === undefined) return next(exchange);
    const { facts, request } = exchange;
    // a copy: the request's own headers stay as they came, so the listener and the telemetry still
    // see a gRPC-Web request (a local reply is not put in gRPC form by the HTTP/2 listener)
    const headers = new HeaderList(facts.headers);
    headers.delete("content-length");
    headers.set("content-type", "application/grpc");
    if (!headers.has("grpc-accept-encoding")) headers.set("grpc-accept-encoding", "identity,deflate,gzip");
    facts.headers = headers;
    const accept = headers.get("accept");
    const text = accept === "application/grpc-web-text" || accept === GRPC_WEB_TEXT_PROTO;
    const decoded = kind === TEXT && request.body ? new Base64Body(request.body) : undefined;
    if (decoded) exchange.request = withBody(request, decoded.stream);
    const answer = next(exchange);
    if (!(answer instanceof Promise)) return answered(exchange, decoded, answer, text);
    return answer.then(
      (response) => answered(exchange, decoded, response, text),
      (error) => {
        if (!decoded?.error) throw error;
        return badBase64(exchange, decoded.error, text);
      },
    );
  };
}

/**
 * The answer in gRPC-Web form; for a -text request whose base64 turned out bad before the answer
 * came (the upstream call failed with its aborted body, or answered without reading it all),
 * Envoy's 400 in its place. Bad base64 found after the answer went out resets it, as in Envoy.
 */
function answered(exchange: Exchange, decoded: Base64Body | undefined, response: HttpResponse, text: boolean): HttpResponse | Promise<HttpResponse> {
  if (!decoded?.error) return toGrpcWeb(response, text);
  void response.body?.cancel().catch(() => {});
  return badBase64(exchange, decoded.error, text);
}

function badBase64(exchange: Exchange, error: Base64Error, text: boolean): HttpResponse | Promise<HttpResponse> {
  // this hop's own refusal: the flags the aborted upstream try earned are not what happened
  exchange.record.flags = null;
  const reply = localReply(new ProxyError("invalid-grpc-web"), exchange.record);
  exchange.record.details = error.details;
  return toGrpcWeb(reply, text);
}

/** request with another body, everything else read from it (its url may be built lazily) */
function withBody(request: HttpRequest, body: ReadableStream<Uint8Array>): HttpRequest {
  return {
    method: request.method,
    get url() {
      return request.url;
    },
    scheme: request.scheme,
    target: request.target,
    rawTarget: request.rawTarget,
    headers: request.headers,
    body,
    trailers: request.trailers,
    protocol: request.protocol,
    upgrade: request.upgrade,
  };
}

function toGrpcWeb(response: HttpResponse, text: boolean): HttpResponse | Promise<HttpResponse> {
  const original = response.headers;
  // dietmesh's own header list, as on the rest of the data path (a Headers copy is native calls per field)
  const headers = new HeaderList(original);
  headers.delete("content-length");
  headers.set("content-type", text ? GRPC_WEB_TEXT_PROTO : GRPC_WEB_PROTO);
  const known = knownBody(response);
  // Envoy's end_stream on the head: no body follows (a local reply with an empty body, Trailers-Only)
  if (!response.body || (known !== undefined && known.length === 0 && !response.trailers)) {
    void response.body?.cancel().catch(() => {});
    return new MeshResponse(response.status, response.statusText, headers, null);
  }
  if (!isGrpcAnswer(response.status, original)) return asGrpcStatus(response, headers, known);
  const frames = text ? new FrameEncoder() : undefined;
  const trailers = response.trailers;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!frames) return controller.enqueue(chunk);
        for (const piece of frames.push(chunk)) controller.enqueue(piece);
      },
      async flush(controller) {
        const got = await trailers;
        if (!got) return;
        const frame = trailerFrame(got);
        controller.enqueue(frames ? frames.push(frame)[0] : frame);
      },
    }),
  );
  return new MeshResponse(response.status, response.statusText, headers, body);
}

/** a gRPC answer (200, content-type application/grpc or grpc+…), or one already in gRPC-Web's binary form */
function isGrpcAnswer(status: number, headers: Headers): boolean {
  if (status !== 200) return false;
  const type = headers.get("content-type");
  if (type === null) return false;
  if (type === "application/grpc" || type.startsWith("application/grpc+")) return true;
  const media = type.split(";")[0].trimEnd().toLowerCase();
  return media === "application/grpc-web" || media === GRPC_WEB_PROTO;
}

/** a non-gRPC answer: its status and body become grpc-status and grpc-message in the head */
async function asGrpcStatus(response: HttpResponse, headers: Headers, known: Uint8Array | undefined): Promise<HttpResponse> {
  // a body whole in memory (a local reply) goes in whole, as Envoy takes a single last chunk whole
  const message = known ?? (await readUpTo(response.body!, MAX_MESSAGE_BYTES));
  headers.set("grpc-status", String(grpcStatusForHttp(response.status)));
  headers.set("grpc-message", grpcMessageOf(message));
  headers.set("content-length", "0");
  if (known) void response.body?.cancel().catch(() => {});
  return new MeshResponse(response.status, response.statusText, headers, null, response.trailers);
}

/** the body's first max bytes; the rest is read and dropped, as Envoy stops buffering at the bound */
async function readUpTo(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length >= max) continue;
    parts.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(Math.min(length, max));
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.length, out.length - at);
    out.set(part.subarray(0, take), at);
    at += take;
  }
  return out;
}
