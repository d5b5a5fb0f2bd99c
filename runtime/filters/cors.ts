// The CORS filter (Envoy's, with the policy Istio puts on a route): a preflight — OPTIONS with an
// Origin and an Access-Control-Request-Method — from an allowed origin is answered here, 200 and
// no upstream call; any other request from an allowed origin goes on, and its answer (the
// upstream's or a later filter's local reply) leaves with access-control-allow-origin set to that
// origin. A request from an origin the policy does not allow passes untouched; so does its
// preflight, unless unmatchedPreflights is IGNORE, which answers it 200 without an allow-origin.
//
// It wraps the rest of the chain rather than sitting in the list because it has a response half,
// as Envoy's encodeHeaders; it needs the route, so it comes after the route filter. Only gateway
// and sidecar-outbound chains have it: corsPolicy is a VirtualService route field, and a sidecar's
// inbound side does not route by VirtualServices (Istio adds the filter to the same two).
import type { CorsPolicy } from "../routing/cors-policy.ts";
import type { HttpResponse } from "../exchange/types.ts";
import { responseOfBytes } from "../exchange/known-body.ts";
import { withHeaders } from "../exchange/response.ts";
import type { Chain, Exchange, Terminal } from "./chain.ts";

const EMPTY = new Uint8Array(0);

/** next: the filters after this one and the router */
export function corsFilter(next: Chain): Terminal {
  return function cors(exchange) {
    const policy = exchange.route?.cors;
    if (!policy) return next(exchange);
    const headers = exchange.facts.headers;
    const origin = headers.get("origin");
    if (!origin) return next(exchange);
    const allowed = policy.allowsOrigin(origin);
    if (exchange.facts.method === "OPTIONS" && headers.get("access-control-request-method")) {
      if (allowed || !policy.forwardUnmatchedPreflights) return preflight(exchange, policy, allowed ? origin : undefined);
      return next(exchange);
    }
    if (!allowed) return next(exchange);
    const answer = next(exchange);
    return answer instanceof Promise ? answer.then((response) => decorate(response, policy, origin)) : decorate(answer, policy, origin);
  };
}

function preflight(exchange: Exchange, policy: CorsPolicy, origin: string | undefined): HttpResponse {
  const request = exchange.facts.headers;
  const out = new Headers();
  if (origin) out.set("access-control-allow-origin", origin);
  if (policy.allowCredentials) out.set("access-control-allow-credentials", "true");
  if (policy.allowMethods) {
    out.set("access-control-allow-methods", policy.allowMethods === "*" ? request.get("access-control-request-method") ?? "" : policy.allowMethods);
  }
  if (policy.allowHeaders) {
    out.set("access-control-allow-headers", policy.allowHeaders === "*" ? request.get("access-control-request-headers") ?? "" : policy.allowHeaders);
  }
  if (policy.maxAge) out.set("access-control-max-age", policy.maxAge);
  exchange.record.details = "cors_response";
  return responseOfBytes(EMPTY, { status: 200, headers: out });
}

function decorate(response: HttpResponse, policy: CorsPolicy, origin: string): HttpResponse {
  try {
    setCors(response.headers, policy, origin);
    return response;
  } catch {
    // immutable headers (a fetch Response): a copy
    const copy = new Headers(response.headers);
    setCors(copy, policy, origin);
    return withHeaders(response, copy);
  }
}

function setCors(headers: Headers, policy: CorsPolicy, origin: string): void {
  headers.set("access-control-allow-origin", origin);
  if (policy.allowCredentials) headers.set("access-control-allow-credentials", "true");
  if (policy.exposeHeaders) headers.set("access-control-expose-headers", policy.exposeHeaders);
}
