// Request-target normalization before authorization and routing, as Istio's
// meshConfig.pathNormalization sets up Envoy. The normalized path is what policies match AND what
// is forwarded, so the backend never sees a path the policies did not. One pass, no double
// decoding: a "%" that does not start an escape becomes "%25", so decoding the output once more
// cannot produce a dot-segment or a slash this pass did not see.
//
// Every mode: the fragment is dropped, the query is kept as it came, "%00", NUL, other control
// characters and spaces in the path → 400.
// NONE                       nothing else.
// BASE (default)             "%XX" of an unreserved character (A-Z a-z 0-9 - . _ ~) decoded, other
//                            escapes kept with upper-case hex; "\" → "/"; "." and ".." segments
//                            resolved (RFC 3986 5.2.4, "%2e" counts as "."); characters that must
//                            not appear raw ("<", ">", '"', "`", "{", "}", non-ASCII) escaped.
// MERGE_SLASHES              BASE, then runs of "/" merged into one.
// DECODE_AND_MERGE_SLASHES   "%2F" and "%5C" decoded to "/" first, then MERGE_SLASHES.
// Not covered by any mode: letter case ("/Admin" ≠ "/admin"), ";" path parameters, double
// encodings ("%252e" stays as it is), and in BASE/MERGE_SLASHES an encoded slash ("%2F").

export type PathNormalization = "NONE" | "BASE" | "MERGE_SLASHES" | "DECODE_AND_MERGE_SLASHES";
export const PATH_NORMALIZATIONS: readonly PathNormalization[] = ["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"];

export type NormalizedTarget =
  /** path: for matching and forwarding, no query; target: path + "?query" to forward */
  | { ok: true; path: string; target: string }
  | { ok: false; status: 400; reason: string };

const bad = (reason: string): NormalizedTarget => ({ ok: false, status: 400, reason });

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = "0123456789ABCDEF";
const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
const utf8 = new TextEncoder();
/** characters browsers and Envoy's canonicalizer escape in a path */
const MUST_ESCAPE = new Set(['"', "<", ">", "`", "{", "}"]);
const escapeByte = (b: number) => `%${HEX[b >> 4]}${HEX[b & 15]}`;

/** origin-form "/p?q", or absolute-form "http://host/p?q" reduced to origin-form */
function splitTarget(raw: string): { path: string; query: string } | undefined {
  let t = raw;
  const hash = t.indexOf("#");
  if (hash !== -1) t = t.slice(0, hash);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(t);
  if (scheme) t = t.slice(scheme[0].length) || "/";
  if (t.startsWith("?")) t = `/${t}`;
  if (!t.startsWith("/")) return undefined;
  const q = t.indexOf("?");
  return q === -1 ? { path: t, query: "" } : { path: t.slice(0, q), query: t.slice(q) };
}

// unreserved, sub-delims, ":" and "@" (RFC 3986 pchar without pct-encoded) and "/"
const PLAIN = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") PLAIN[c.charCodeAt(0)] = 1;

/**
 * The end of the path when an origin-form target needs no normalization in any mode (nearly every
 * request: no "%", "\\", dot segment, "//", control or non-ASCII byte), else -1. One scan, no
 * allocation, so the common request pays nothing for the policy.
 */
function plainPathEnd(target: string): number {
  if (target.charCodeAt(0) !== 47 /* "/" */) return -1;
  let i = 0;
  for (; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* "?" */) break;
    if (c >= 128 || PLAIN[c] === 0) return -1;
    if (c === 47 && target.charCodeAt(i + 1) === 47) return -1; // "//": MERGE_SLASHES would change it
    if (c === 46 /* "." */ && target.charCodeAt(i - 1) === 47) return -1; // a dot segment, maybe
  }
  for (let j = i; j < target.length; j++) {
    const c = target.charCodeAt(j);
    if (c === 0 || c === 35 /* "#" */) return -1; // NUL is refused, a fragment cut off: the full path
  }
  return i;
}

/**
 * Normalizes a raw request-target (as it came on the request line: not a URL that a parser has
 * already cleaned up) for authorization, routing and forwarding.
 */
export function normalizePath(rawTarget: string, mode: PathNormalization = "BASE"): NormalizedTarget {
  const plainEnd = plainPathEnd(rawTarget);
  if (plainEnd !== -1) return { ok: true, path: plainEnd === rawTarget.length ? rawTarget : rawTarget.slice(0, plainEnd), target: rawTarget };
  return normalizeFully(rawTarget, mode);
}

/** normalizePath without its shortcut for plain targets (exported for the test that compares them) */
export function normalizeFully(rawTarget: string, mode: PathNormalization = "BASE"): NormalizedTarget {
  if (rawTarget.includes("\0")) return bad("NUL in the request target");
  if (rawTarget === "*") return { ok: true, path: "*", target: "*" }; // OPTIONS * (asterisk-form)
  const parts = splitTarget(rawTarget);
  if (!parts) return bad("the request target must start with \"/\"");
  const { path, query } = parts;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return bad("control character or space in the path");
    if (c === 0x25 && path.charCodeAt(i + 1) === 0x30 && path.charCodeAt(i + 2) === 0x30) return bad("%00 in the path");
  }
  if (mode === "NONE") return { ok: true, path, target: path + query };

  const decodeSlashes = mode === "DECODE_AND_MERGE_SLASHES";
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    const code = path.charCodeAt(i);
    if (ch === "%") {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi === -1 || lo === -1) {
        out += "%25";
        continue;
      }
      const byte = hi * 16 + lo;
      const decoded = String.fromCharCode(byte);
      i += 2;
      if (byte < 0x80 && UNRESERVED.test(decoded)) out += decoded;
      else if (decodeSlashes && (decoded === "/" || decoded === "\\")) out += "/";
      else out += escapeByte(byte);
    } else if (ch === "\\") out += "/";
    else if (code > 0x7e || MUST_ESCAPE.has(ch)) {
      const cp = path.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of utf8.encode(String.fromCodePoint(cp))) out += escapeByte(b);
    } else out += ch;
  }
  let normalized = removeDotSegments(out);
  if (mode !== "BASE") normalized = normalized.replace(/\/{2,}/g, "/");
  return { ok: true, path: normalized, target: normalized + query };
}

/** RFC 3986 5.2.4 on an absolute path: "/a/./b/../c" → "/a/c"; ".." never climbs above "/" */
export function removeDotSegments(path: string): string {
  if (!path.includes(".")) return path;
  const input = path.slice(1).split("/");
  const output: string[] = [];
  for (let i = 0; i < input.length; i++) {
    const seg = input[i];
    const last = i === input.length - 1;
    if (seg === "." || seg === "..") {
      if (seg === "..") output.pop();
      if (last) output.push("");
    } else output.push(seg);
  }
  return `/${output.join("/")}`;
}

/** Istio answers 400 to a method that is not all upper case, so "delete" cannot slip past a DENY on "DELETE" */
export function isUpperCaseMethod(method: string): boolean {
  return method !== "" && method === method.toUpperCase();
}
