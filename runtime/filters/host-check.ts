// HTTP/1.1 requires exactly one Host (RFC 9112 §3.2): no Host, or a Host that is really two (a
// runtime's server joins repeated headers with ", "), is answered 400 before anything reads it —
// otherwise a route for one host and a DENY for the other could both be wrong. dietmesh's own
// server refuses these already; this covers requests handed in as Web Requests.
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Filter } from "./chain.ts";
import { getChecked } from "../exchange/header-list.ts";

export function hostCheckFilter(): Filter {
  return function hostCheck(exchange) {
    const host = getChecked(exchange.facts.headers, "host");
    if (host === null) return localReply(new ProxyError("bad-request", "missing Host header"), exchange.record);
    if (host.includes(",")) return localReply(new ProxyError("bad-request", "more than one Host"), exchange.record);
    return undefined;
  };
}
