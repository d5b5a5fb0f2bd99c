// The consistent-hash input for one request, read from the source a DestinationRule names.
// Computed once per request, before the retry loop, and passed to pick() as ctx.hashKey.
import type { ConsistentHashLB } from "../../config/types.ts";
import type { HttpRequest } from "../../exchange/types.ts";

/**
 * undefined when the request lacks the named header, cookie or parameter: the ring then picks a
 * random host, as Envoy does. Istio's fields are a oneof; should several be set anyway, the
 * first in the order header, cookie, source IP, query parameter wins.
 * A missing cookie is not generated here (Envoy sets one when `ttl` is given); that needs the
 * response path, so until then such requests are spread randomly and are not sticky.
 */
export function hashKeyFor(policy: ConsistentHashLB, request: HttpRequest, sourceIp: string): string | undefined {
  if (policy.httpHeaderName) return request.headers.get(policy.httpHeaderName) ?? undefined;
  if (policy.httpCookie) return cookieValue(request.headers.get("cookie"), policy.httpCookie.name);
  if (policy.useSourceIp) return sourceIp === "" ? undefined : sourceIp;
  if (policy.httpQueryParameterName) return queryValue(request.url, policy.httpQueryParameterName);
  return undefined;
}

/** the first cookie called `name` in a Cookie header (RFC 6265 §4.2), surrounding quotes removed */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  // Several Cookie headers may arrive joined by ", " or "; " depending on the runtime.
  for (const part of header.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

/** the first value of a query parameter, decoded as a form would be */
function queryValue(url: string, name: string): string | undefined {
  const q = url.indexOf("?");
  if (q < 0) return undefined;
  const hash = url.indexOf("#", q);
  return new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash)).get(name) ?? undefined;
}
