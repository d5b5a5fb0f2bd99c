// The request header-block limits of an HTTP/2 listener (--max-request-headers,
// --max-request-headers-kb), applied as Envoy's HTTP/2 codec applies max_request_headers_count and
// max_request_headers_kb: it counts the fields of the stream's header map, pseudo-headers included
// (:method, :scheme, :path and :authority are four of the 100), and sums their names' and values'
// lengths (HeaderMap::byteSize: no 32-octet overhead per field); a block over either fails the
// codec's header callback, and nghttp2 / oghttp2 reset the stream, RST_STREAM INTERNAL_ERROR,
// details http2.too_many_headers. HTTP/2 gets no 431: only Envoy's HTTP/1 codec answers one (its
// integration tests: HTTP/1 downstream → 431, HTTP/2 → the stream reset). dietmesh resets the same
// way, before the stream becomes a request. One difference: Envoy sets cookie crumbs aside until the
// block ends, so they escape both limits; here every field counts as it arrived.
//
// A request's trailer block is held to the same two limits, measured on its own (not added to the
// header block's): Envoy's server codec gives the trailers a fresh map when their HEADERS frame
// begins (onBeginHeaders: allocTrailers) and the same per-field check (saveHeader) fails the block
// with the same details and the same reset; the router then resets the upstream request. Trailers
// carry no pseudo-headers, so every field is a field of ours. Here the block is checked whole, when
// node:http2 hands it over, which is before the body's end is seen: the reset errors the request
// body, so whatever was forwarded is aborted upstream rather than completed without its trailers.
// Every reset, header block or trailer block, is counted (limits.overflowed), as Envoy counts both
// in http2.header_overflow.
//
// node:http2 has limits of its own (128 fields, a 64 KiB header list) that would refuse first once
// the flags raise ours; they are derived from ours instead, once per server: twice the largest block
// ours takes, so that ours decides every near miss and only a block over twice our limits meets
// the runtime's (a reset with the runtime's own code). The size is also what the server
// advertises as SETTINGS_MAX_HEADER_LIST_SIZE.
import type { H2HeadLimits } from "./types.ts";

/** node:http2 server options for limits: maxHeaderListPairs and settings.maxHeaderListSize */
export function nodeHeaderOptions(limits: H2HeadLimits): { maxHeaderListPairs: number; maxHeaderListSize: number } {
  // RFC 9113 §6.5.2 sizes a header list as names and values plus 32 octets per field: a block within
  // both our limits is at most maxHeadBytes + 32 × maxHeaders; a list of size S has at most S / 32 fields
  const maxHeaderListSize = 2 * (limits.maxHeadBytes + 32 * limits.maxHeaders);
  return { maxHeaderListPairs: Math.ceil(maxHeaderListSize / 32) + 1, maxHeaderListSize };
}

/** whether a header block (name, value, name, value, … as received) is over limits; compiled once per server */
export function headBlockCheck(limits: H2HeadLimits): (fields: readonly string[]) => boolean {
  const maxEntries = limits.maxHeaders * 2;
  const maxBytes = limits.maxHeadBytes;
  return (fields) => {
    if (fields.length > maxEntries) return true;
    let bytes = 0;
    for (let i = 0; i < fields.length; i++) bytes += fields[i].length;
    return bytes > maxBytes;
  };
}

/** what a refused stream is destroyed with: node:http2 resets it with INTERNAL_ERROR, as nghttp2 does for Envoy */
export const TOO_MANY_HEADERS = new Error("http2.too_many_headers");

/** a header object's fields as a flat list, for a runtime that gives no raw list */
export function fieldsOf(head: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(head)) {
    const value = head[name];
    if (typeof value === "string") out.push(name, value);
    else if (value) for (const one of value) out.push(name, one);
  }
  return out;
}
