// The URL a request names, from its head: "scheme://authority/path?query". The authority is the
// Host header, or an absolute-form target's own (RFC 9112 §3.2.2: the target wins). The path is
// normalized as a WHATWG URL parser would (dot segments, "\" as "/", percent-encoding of bytes a
// URL may not hold), which is what route matching always saw from the runtimes' servers; targets
// that need none of it (nearly all) are taken as they are, without a URL parse.
import type { HeadError, RequestHead } from "./request-head.ts";

const BAD_TARGET: HeadError = Object.freeze({ status: 400, details: "http1.invalid_url" });
const BAD_HOST: HeadError = Object.freeze({ status: 400, details: "http1.invalid_host" });
const NO_HOST: HeadError = Object.freeze({ status: 400, details: "http1.missing_host" });

// unreserved, sub-delims, ":", "@", "/", "?" and "%" (RFC 3986 pchar and query), minus "\"
const SAFE = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?%") SAFE[c.charCodeAt(0)] = 1;

// reg-name, IPv4, bracketed IPv6, and a port: no "/", "?", "#", "@", ",", space or controls
const HOST_SAFE = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+;=:[]%") HOST_SAFE[c.charCodeAt(0)] = 1;

function validAuthority(authority: string): boolean {
  if (authority.length === 0) return false;
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c >= 128 || HOST_SAFE[c] === 0) return false;
  }
  return true;
}

/** whether a path?query is already what a WHATWG URL parser would make of it */
function plainPath(path: string): boolean {
  let inQuery = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 128 || SAFE[c] === 0) return false;
    if (inQuery) continue; // dot segments and "%2e" mean nothing in a query
    if (c === 63 /* "?" */) inQuery = true;
    else if (c === 46 /* "." */ && path.charCodeAt(i - 1) === 47 /* "/" */) return false;
    else if (c === 37 /* "%" */ && path.charCodeAt(i + 1) === 50 /* "2" */ && (path.charCodeAt(i + 2) | 32) === 101 /* "e" */) return false;
  }
  return true;
}

function normalizedPath(path: string): string {
  if (plainPath(path)) return path;
  try {
    const url = new URL(path, "http://h");
    return url.pathname + url.search;
  } catch {
    return "";
  }
}

/** what a request's URL is made of: its scheme, its authority and its target (the path, normalized, and the query) */
export interface UrlParts {
  scheme: string;
  authority: string;
  /** "/path?query", starting with "/" */
  target: string;
  /** the origin-form request-target target was normalized from ("" for other forms) */
  from: string;
}

/** the request's URL, or why it has none */
export function requestUrl(head: RequestHead, scheme: string): string | HeadError {
  const parts: UrlParts = { scheme: "", authority: "", target: "", from: "" };
  const error = requestParts(head, scheme, parts);
  return error ?? parts.scheme + "://" + parts.authority + parts.target;
}

/**
 * The request's URL in its parts, into out (no URL string built: the chain's route facts need only
 * these; a server connection reuses one out for all its requests), or why it has none.
 */
export function requestParts(head: RequestHead, scheme: string, out: UrlParts): HeadError | null {
  const target = head.target;
  if (target.charCodeAt(0) === 47 /* "/" */) {
    const host = head.host;
    if (host === undefined) return NO_HOST;
    // out holds the connection's previous request: the parser hands a repeated Host value on as the
    // same string, checked then
    const checked = host.length > 0 && host === out.authority;
    if (!checked && !validAuthority(host)) return BAD_HOST;
    // the same target as the previous request's (the same string, as the parser hands it on): the
    // same path, normalized then
    const path = target === out.from ? out.target : normalizedPath(target);
    if (!path) return BAD_TARGET;
    parts(out, scheme, host, path);
    out.from = target;
    return null;
  }
  // authority-form (CONNECT host:port, checked by request-head.ts): the tunnel's destination
  if (head.method === "CONNECT") return validAuthority(target) ? parts(out, scheme, target, "/") : BAD_HOST;
  // absolute-form: http://authority[/path][?query]
  const sep = target.indexOf("://");
  if (sep < 0) return BAD_TARGET;
  const given = target.slice(0, sep).toLowerCase();
  if (given !== "http" && given !== "https") return BAD_TARGET;
  let end = sep + 3;
  while (end < target.length && target[end] !== "/" && target[end] !== "?") end++;
  const authority = target.slice(sep + 3, end);
  if (!validAuthority(authority) || authority.includes("@")) return BAD_HOST;
  const rest = end === target.length ? "/" : target[end] === "?" ? "/" + target.slice(end) : target.slice(end);
  const path = normalizedPath(rest);
  return path ? parts(out, given, authority, path) : BAD_TARGET;
}

function parts(out: UrlParts, scheme: string, authority: string, target: string): null {
  out.from = "";
  out.scheme = scheme;
  out.authority = authority;
  out.target = target;
  return null;
}
