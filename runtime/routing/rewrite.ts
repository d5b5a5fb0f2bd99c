// Route `rewrite` (uri, uriRegexRewrite, authority) compiled once into a path rewriter, as Envoy
// applies Istio's prefix_rewrite / regex_rewrite / host_rewrite_literal.
import type { Headers as HeaderOpsSpec, HTTPMatchRequest, HTTPRewrite } from "../config/types.ts";
import { authorityFromHeaderOps } from "./header-ops.ts";
import { compileRe2, regexError } from "./regex.ts";
import type { RequestFacts } from "./request-facts.ts";

const UNSAFE = /[\x00-\x20\x7f]/;

/** RE2 rewrite template: `\0`–`\9` refer to groups, `\\` is a backslash; anything else literal. */
type Part = string | number;

function parseTemplate(template: string): Part[] | string {
  const parts: Part[] = [];
  let lit = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== "\\") {
      lit += c;
      continue;
    }
    const next = template[++i];
    if (next === "\\") lit += "\\";
    else if (next !== undefined && next >= "0" && next <= "9") {
      if (lit) parts.push(lit);
      lit = "";
      parts.push(next.charCodeAt(0) - 48);
    } else return `invalid rewrite ${JSON.stringify(template)}: "\\" must be followed by a digit or "\\"`;
  }
  if (lit) parts.push(lit);
  return parts;
}

/** Why this rewrite cannot be applied, or undefined. */
export function rewriteError(rw: HTTPRewrite | undefined): string | undefined {
  if (!rw) return undefined;
  if (rw.uri !== undefined && rw.uriRegexRewrite) return "rewrite: uri and uriRegexRewrite are mutually exclusive";
  if (rw.uri !== undefined && UNSAFE.test(rw.uri)) return "rewrite.uri has whitespace or control characters";
  if (rw.authority !== undefined && UNSAFE.test(rw.authority)) return "rewrite.authority has whitespace or control characters";
  const rr = rw.uriRegexRewrite;
  if (!rr) return undefined;
  const bad = regexError(rr.match);
  if (bad) return bad;
  const parts = parseTemplate(rr.rewrite);
  if (typeof parts === "string") return parts;
  const groups = compileRe2(rr.match).groupCount();
  const missing = parts.find((p) => typeof p === "number" && p > groups);
  if (missing !== undefined) return `rewrite refers to group \\${missing} but the regex has ${groups}`;
  if (UNSAFE.test(rr.rewrite)) return "uriRegexRewrite.rewrite has whitespace or control characters";
  return undefined;
}

const withQuery = (path: string, f: RequestFacts) => (f.query === "" ? path : `${path}?${f.query}`);

/** Returns the new request-target: the rewritten path with the request's query ("/v2/x?a=1"). */
export type PathRewriter = (f: RequestFacts) => string;

function regexRewriter(rr: { match: string; rewrite: string }): PathRewriter {
  const re = compileRe2(rr.match);
  const parts = parseTemplate(rr.rewrite);
  if (typeof parts === "string") throw new Error(parts);
  const replacer = (...args: unknown[]) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : ((args[p] as string | null | undefined) ?? "");
    return out;
  };
  return (f) => withQuery(re.matcher(f.path).replaceAll(replacer), f);
}

/**
 * Compiles the path part of `rewrite` for the match block that selected the route (Envoy builds
 * one route per block, and so should the caller when blocks differ); null when the path is left
 * alone. Throws on invalid config (check rewriteError first) — never per request.
 * - `uriRegexRewrite`: every match in the path (query excluded) is replaced, RE2 GlobalReplace
 *   style, `\1` naming a capture group.
 * - `uri` after a `prefix` match: only the matched prefix is replaced ("/api" → "/v2": "/api/x" →
 *   "/v2/x", "/apiv2" → "/v2v2"). After an `exact` or `regex` match the whole path is replaced. A
 *   block without `uri` (or no block) is Envoy's implicit prefix "/" match, so that "/" is what is
 *   replaced ("/v2/" on "/x" → "/v2/x"). This is Envoy's prefix_rewrite as Istio configures it.
 * - the query string is always kept.
 */
export function compileRewrite(rw: HTTPRewrite | undefined, block: HTTPMatchRequest | undefined): PathRewriter | null {
  if (rw?.uriRegexRewrite) return regexRewriter(rw.uriRegexRewrite);
  const uri = rw?.uri;
  if (!uri) return null;
  const m = block?.uri;
  if (m?.exact !== undefined || m?.regex !== undefined) return (f) => withQuery(uri, f);
  const cut = m?.prefix !== undefined ? m.prefix.length : 1;
  return (f) => withQuery(uri + f.path.slice(cut), f);
}

/**
 * The authority to send upstream, if a rewrite asks for one. As Istio: `rewrite.authority` wins
 * over a host/`:authority` in the route's `headers.request` (Istio turns those into a host rewrite,
 * `set` over `add`); a destination's own host applies only when the route sets neither.
 */
export function rewriteAuthority(
  rw: HTTPRewrite | undefined,
  routeHeaders: HeaderOpsSpec | undefined,
  destinationHeaders?: HeaderOpsSpec,
): string | undefined {
  return rw?.authority || authorityFromHeaderOps(routeHeaders?.request) || authorityFromHeaderOps(destinationHeaders?.request) || undefined;
}
