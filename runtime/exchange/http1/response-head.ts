// Parses an HTTP/1.1 response head (status line + header lines, CRLF-terminated, as latin1 text)
// into a reusable ResponseHead: indexOf scans, no regex, names/values kept in order for
// Headers.append (so repeated Set-Cookie lines survive). Strict like Envoy: obs-fold, conflicting
// Content-Length → error here; a name that is not a token (whitespace before the colon too) or a
// value with CR, LF or NUL → error from Headers.append, which the connection reports the same way.

import { LOWER, sameNameFolded, WRITTEN, writtenName } from "./field-names.ts";
import { hasNonFieldText } from "./head-scan.ts";

/** RFC 9110 §5.6.2 tchar, by char code */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

export const MAX_HEAD_BYTES = 60 * 1024;
export const MAX_HEADERS = 100;

export class ResponseHead {
  status = 0;
  statusText = "";
  /** 1 for HTTP/1.1, 0 for HTTP/1.0 */
  minor = 1;
  /** as they came */
  names: string[] = [];
  /** at the same index: a common name's lowercase shared string, "" for any other name (not yet checked to be a token) */
  lowerNames: string[] = [];
  values: string[] = [];
  count = 0;
  /** -1 when absent */
  contentLength = -1;
  transferEncoding = false;
  /** the last transfer coding is chunked */
  chunked = false;
  /** Transfer-Encoding is anything but one "chunked" (another coding, or a second line) */
  otherCoding = false;
  connectionClose = false;
  connectionKeepAlive = false;

  reset(): void {
    this.count = 0;
    this.contentLength = -1;
    this.transferEncoding = false;
    this.chunked = false;
    this.otherCoding = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
  }

  /** whether the connection may carry another request after this response */
  get keepAlive(): boolean {
    if (this.connectionClose) return false;
    return this.minor === 1 || this.connectionKeepAlive;
  }
}

function digit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : -1;
}

/** parses a head (status line and header lines, without the final CRLFCRLF) into out; returns an error or null */
export function parseHead(text: string, out: ResponseHead): string | null {
  out.reset();
  // status line: HTTP/1.x SP 3DIGIT [SP reason]
  if (!text.startsWith("HTTP/1.")) return "malformed status line";
  const minor = digit(text.charCodeAt(7));
  if (minor < 0 || minor > 1 || text.charCodeAt(8) !== 32) return "malformed status line";
  const d1 = digit(text.charCodeAt(9));
  const d2 = digit(text.charCodeAt(10));
  const d3 = digit(text.charCodeAt(11));
  if (d1 < 1 || d2 < 0 || d3 < 0) return "malformed status code";
  out.minor = minor;
  out.status = d1 * 100 + d2 * 10 + d3;
  let lineEnd = text.indexOf("\r\n", 12);
  if (lineEnd < 0) lineEnd = text.length;
  const after = text.charCodeAt(12);
  if (lineEnd > 12 && after !== 32) return "malformed status line";
  // "OK" as a shared literal: nearly every response's reason, and a slice is a string to make real
  out.statusText = lineEnd === 15 && text.charCodeAt(13) === 79 && text.charCodeAt(14) === 75 ? "OK" : lineEnd > 13 ? text.slice(13, lineEnd) : "";
  // a bare CR or LF is no line end (RFC 9112 §2.2): "200 OK\rX: y" or "\nX: y" hides a field
  if (lineEnd > 13 && (out.statusText.indexOf("\r") >= 0 || out.statusText.indexOf("\n") >= 0)) return "malformed status line";
  // one scan from the end of the status line (HeaderList would quietly trim a value's trailing bare CR)
  if (hasNonFieldText(text, lineEnd)) return "control character in a header";

  let pos = lineEnd + 2;
  const names = out.names;
  const values = out.values;
  while (pos < text.length) {
    let end = text.indexOf("\r\n", pos);
    if (end < 0) end = text.length;
    if (end === pos) break; // the empty line ending the head
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) return "obsolete line folding";
    const colon = text.indexOf(":", pos);
    if (colon < 0 || colon >= end) return "header line without a colon";
    // the name's characters are checked by Headers.append, which refuses anything but a token
    const common = writtenName(text, pos, colon);
    const name = common >= 0 ? WRITTEN[common] : text.slice(pos, colon);
    const value = trimOws(text, colon + 1, end, out.count < values.length ? values[out.count] : undefined);
    if (out.count === MAX_HEADERS) return "too many headers";
    names[out.count] = name;
    out.lowerNames[out.count] = common >= 0 ? LOWER[common] : "";
    values[out.count] = value;
    out.count++;
    const error = special(name, value, out);
    if (error) return error;
    pos = end + 2;
  }
  return null;
}

function trimOws(text: string, start: number, end: number, previous: string | undefined): string {
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  if (previous !== undefined && previous.length === end - start && text.startsWith(previous, start)) return previous;
  return text.slice(start, end);
}

/**
 * name (as long as lower) is the lowercase literal in any letter case, without toLowerCase's new
 * string: upstreams send their fields capitalised (Content-Length from the runtimes' servers, nginx
 * and most frameworks), and that string per response was ~4 % of a sidecar's profile.
 */
function sameName(name: string, lower: string): boolean {
  return name === lower || sameNameFolded(name, 0, lower);
}

/** notes the headers that decide framing and connection reuse */
function special(name: string, value: string, out: ResponseHead): string | null {
  const first = name.charCodeAt(0) | 0x20; // lower case
  switch (name.length) {
    case 14: {
      if (first !== 99 /* c */ || !sameName(name, "content-length")) return null;
      const n = parseLength(value);
      if (n < 0) return "invalid content-length";
      if (out.contentLength >= 0 && out.contentLength !== n) return "conflicting content-length";
      out.contentLength = n;
      return null;
    }
    case 17: {
      if (first !== 116 /* t */ || !sameName(name, "transfer-encoding")) return null;
      // Envoy refuses any coding but chunked (the fuzz against llhttp found these passed on)
      if (out.transferEncoding || value.length !== 7 || value.toLowerCase() !== "chunked") out.otherCoding = true;
      out.transferEncoding = true;
      // the last coding of the last line decides (RFC 9112 §6.3)
      const comma = value.lastIndexOf(",");
      out.chunked = (comma < 0 ? value : value.slice(comma + 1)).trim().toLowerCase() === "chunked";
      return null;
    }
    case 10: {
      if (first !== 99 /* c */ || !sameName(name, "connection")) return null;
      for (const token of value.toLowerCase().split(",")) {
        const t = token.trim();
        if (t === "close") out.connectionClose = true;
        else if (t === "keep-alive") out.connectionKeepAlive = true;
      }
      return null;
    }
    default:
      return null;
  }
}

/** a Content-Length value (digits only, also "n, n" as some servers repeat it), or -1 */
function parseLength(value: string): number {
  const comma = value.indexOf(",");
  if (comma >= 0) {
    const first = parseLength(value.slice(0, comma).trim());
    return first >= 0 && parseLength(value.slice(comma + 1).trim()) === first ? first : -1;
  }
  if (value.length > 15) {
    // leading zeros are still one number (llhttp and Envoy take "000…05"); the rest must fit in 2^53
    let zeros = 0;
    while (zeros < value.length - 1 && value.charCodeAt(zeros) === 48) zeros++;
    if (value.length - zeros > 15) return -1;
    value = value.slice(zeros);
  }
  if (value.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = digit(value.charCodeAt(i));
    if (d < 0) return -1;
    n = n * 10 + d;
  }
  return n;
}
