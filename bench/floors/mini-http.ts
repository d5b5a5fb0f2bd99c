// What the HTTP floors share (bench/floors/bun-http.ts, deno-http.ts): the least HTTP/1.1 a proxy has
// to understand to route a request and to frame its answer — find the head's end, split it into a
// start line and a name/value array (bytes -> latin1 strings), pick out Host, Content-Length,
// Transfer-Encoding and Connection, and rebuild a head from the parts. Runtime-neutral: no sockets.
//
// Deliberately omitted, because the floor measures the cost of the parse and not its rigour: every
// framing check a real codec makes (CL+TE, duplicate Content-Length, bare CR/LF, obs-fold, token and
// value validation, header and URI limits beyond one buffer), chunked bodies both ways (a request
// with Transfer-Encoding is refused; the bench upstream answers with Content-Length), 1xx responses,
// upgrades, trailers, HTTP/1.0 keep-alive rules. Hop-by-hop fields other than Connection and
// Keep-Alive (and the fields a Connection header names) pass through.
import { Buffer } from "node:buffer";

// Native latin1 decode (one byte, one UTF-16 unit), as runtime/platform/http1/bytes.ts does it.
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
const encoder = new TextEncoder();

/** a parsed head: the start line, the fields to forward, and what routing and framing need */
export interface Head {
  /** request line ("GET / HTTP/1.1") or status line ("HTTP/1.1 200 OK") as received */
  line: string;
  /** name, value, name, value, … in arrival order, Connection and Keep-Alive left out (hop-by-hop) */
  fields: string[];
  /** the Host value, lowercased ("" when absent) */
  host: string;
  /** the Content-Length (-1 when absent) */
  length: number;
  /** a Transfer-Encoding field was present (this floor does not do chunked bodies) */
  chunked: boolean;
  /** Connection: close was asked for */
  close: boolean;
}

/** index just past the first CRLFCRLF in bytes [from, end), or -1 */
export function findHeadEnd(bytes: Uint8Array, from: number, end: number): number {
  let i = from < 3 ? 3 : from;
  while (i < end) {
    const lf = bytes.indexOf(10, i);
    if (lf < 0 || lf >= end) return -1;
    if (bytes[lf - 1] === 13 && bytes[lf - 2] === 10 && bytes[lf - 3] === 13) return lf + 1;
    i = lf + 1;
  }
  return -1;
}

/**
 * The head in bytes [start, end) (end just past its CRLFCRLF), or null when a field line has no
 * colon. Names are compared case-insensitively only where the proxy needs the field; values are
 * trimmed of spaces and tabs, nothing else.
 */
export function parseHead(bytes: Uint8Array, start: number, end: number): Head | null {
  const text = latin1Slice.call(bytes, start, end - 4);
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  const head: Head = { line: text.slice(0, eol), fields: [], host: "", length: -1, chunked: false, close: false };
  for (let at = eol + 2; at < text.length; ) {
    let next = text.indexOf("\r\n", at);
    if (next < 0) next = text.length;
    const colon = text.indexOf(":", at);
    if (colon < 0 || colon > next) return null;
    const name = text.slice(at, colon);
    const value = text.slice(colon + 1, next).trim();
    at = next + 2;
    // the length check first: most fields are none of these, and need no lowercasing
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") head.host = value.toLowerCase();
        break;
      case 10:
        if (name.toLowerCase() === "connection") {
          if (value.toLowerCase() === "close") head.close = true;
          continue;
        }
        if (name.toLowerCase() === "keep-alive") continue;
        break;
      case 14:
        if (name.toLowerCase() === "content-length") head.length = Number(value);
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") head.chunked = true;
        break;
    }
    head.fields.push(name, value);
  }
  return head;
}

/** the head rebuilt from its parsed parts: start line, forwarded fields, blank line */
export function headText(head: Head): string {
  let out = head.line + "\r\n";
  const f = head.fields;
  for (let i = 0; i < f.length; i += 2) out += f[i] + ": " + f[i + 1] + "\r\n";
  return out + "\r\n";
}

/**
 * The head's text followed by bytes [start, end) of `body` as one array: one write per exchange
 * side when the body came with the head. ASCII heads go through the native encoder; a head with
 * obs-text is written byte by byte so that latin1 survives the round trip.
 */
export function withBody(text: string, body: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(text.length + (end - start));
  const { read, written } = encoder.encodeInto(text, out);
  if (read !== text.length || written !== text.length) for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  if (end > start) out.set(body.subarray(start, end), text.length);
  return out;
}

/** the status code of a status line ("HTTP/1.1 204 No Content" -> 204), NaN when malformed */
export function statusOf(line: string): number {
  return Number(line.slice(9, 12));
}

/** whether a response to this exchange has no body whatever its Content-Length says (RFC 9112 §6.3) */
export function bodiless(requestLine: string, status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200) || requestLine.startsWith("HEAD ");
}

/** a short local reply (no route, a refused framing, an upstream gone) */
export function localReply(status: number, reason: string, close: boolean): Uint8Array {
  const body = reason.toLowerCase() + "\n";
  return encoder.encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      (close ? "connection: close\r\n" : "") + "\r\n" + body,
  );
}

/** bytes a followed by bytes b (a read that did not finish a head, then the next read) */
export function append(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** the one route: --host NAME -> --upstream HOST:PORT, the fixed map's single entry */
export function route(host: string, upstream: string): { host: string; hostname: string; port: number } {
  const colon = upstream.lastIndexOf(":");
  return { host: host.toLowerCase(), hostname: upstream.slice(0, colon), port: Number(upstream.slice(colon + 1)) };
}
