// Header handling every proxy must do: drop hop-by-hop headers (RFC 9110 §7.6.1, and any named in
// Connection), set the x-forwarded-* pair and x-request-id, and keep dietmesh's own headers from
// being forged by a client.
import type { HttpResponse } from "./types.ts";
import { withHeaders } from "./response.ts";
import { deleteChecked, getChecked, hasChecked, HeaderList, setChecked } from "./header-list.ts";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * One of the fixed hop-by-hop names, by length first: a HeaderList's single pass asks this of every
 * field, and a Set lookup would hash each freshly parsed name (measured: 3 % of an inbound sidecar)
 */
function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === "te";
    case 7:
      return name === "upgrade" || name === "trailer";
    case 10:
      return name === "connection" || name === "keep-alive";
    case 16:
      return name === "proxy-connection";
    case 17:
      return name === "transfer-encoding";
    case 18:
      return name === "proxy-authenticate";
    case 19:
      return name === "proxy-authorization";
    default:
      return false;
  }
}

/** removes hop-by-hop headers in place; cheap when Connection is absent (the common case) */
export function stripHopByHop(headers: Headers): void {
  if (headers instanceof HeaderList && headers.getValid("connection") === null) {
    // one pass over the fields instead of nine deletes
    headers.removeWhere(isHopByHop);
    return;
  }
  const connection = headers.get("connection");
  if (connection) {
    for (const name of connection.split(",")) {
      const n = name.trim().toLowerCase();
      // a client may not make a proxy drop Host by naming it ("Connection: host"): routing and
      // host-based policies would then see no host at all
      if (n && n !== "host") headers.delete(n);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
}

/** "h2c" as an Upgrade value: HTTP/2 over cleartext by upgrade, which no proxy passes on */
export function isH2c(upgrade: string): boolean {
  return upgrade.trim().toLowerCase() === "h2c";
}

export interface ForwardedFacts {
  remoteAddress: string;
  scheme: string;
}

/**
 * Request headers for the upstream: cleaned, with forwarding facts added — in place, as Envoy's
 * connection manager edits the request before its filters (the access log then sees the request
 * id and X-Forwarded-For as sent on); a copy only when the headers cannot be changed (a Request's
 * whose guard forbids it).
 */
export function upstreamRequestHeaders(incoming: Headers, facts: ForwardedFacts, newRequestId: () => string, upgrade?: string): Headers {
  let headers = incoming;
  try {
    stripHopByHop(headers);
  } catch {
    headers = new Headers(incoming);
    stripHopByHop(headers);
  }
  // an upgrade goes on with its own hop-by-hop pair (the upgrade filter refused those not allowed);
  // h2c is dropped as Envoy does: the request goes on as plain HTTP/1.1
  if (upgrade && !isH2c(upgrade)) {
    headers.set("connection", "upgrade");
    headers.set("upgrade", upgrade);
  }
  const xff = getChecked(headers, "x-forwarded-for");
  // the request's own X-Forwarded-For and the socket's address: both valid as they are
  if (facts.remoteAddress) setChecked(headers, "x-forwarded-for", xff ? `${xff}, ${facts.remoteAddress}` : facts.remoteAddress);
  if (!hasChecked(headers, "x-forwarded-proto")) setChecked(headers, "x-forwarded-proto", facts.scheme); // a URL scheme: token characters
  // a UUID (the proxy's own ids): valid as it is
  if (!hasChecked(headers, "x-request-id")) setChecked(headers, "x-request-id", newRequestId());
  // No Accept-Encoding is added (as Envoy adds none): dietmesh's own client sends the fields as they
  // are, Bun's fetch with decompress: false asks for no encoding of its own (checked on Bun 1.4.5),
  // and Deno's path is node:http, which adds none either (platform/deno-upstream.ts)
  deleteChecked(headers, "x-dietmesh-response-flags");
  return headers;
}

/** response headers for the client: a copy without hop-by-hop headers */
export function downstreamResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers(upstream);
  stripHopByHop(headers);
  return headers;
}

/**
 * The upstream response, made fit for the client: hop-by-hop headers removed in place when its
 * headers are ours to change (dietmesh's HTTP/1.1 client builds them), which saves a header copy
 * and a Response per request; a copy when they are immutable (a fetch Response).
 */
export function downstreamResponse(upstream: HttpResponse): HttpResponse {
  // a 101 keeps its Upgrade: it names the protocol the client's connection switches to
  const switched = upstream.upgrade ? upstream.headers.get("upgrade") : null;
  try {
    stripHopByHop(upstream.headers); // its deletes throw on an immutable Headers
    if (switched) upstream.headers.set("upgrade", switched);
    return upstream;
  } catch {
    const headers = downstreamResponseHeaders(upstream.headers);
    if (switched) headers.set("upgrade", switched);
    return withHeaders(upstream, headers);
  }
}
