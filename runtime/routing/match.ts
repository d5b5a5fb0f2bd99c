// A route's `match[]` compiled for one proxy: config-time selectors (gateways, sourceLabels,
// sourceNamespace) drop blocks; what is left becomes a cheap predicate over RequestFacts.
import type { HTTPMatchRequest, StringMatch } from "../config/types.ts";
import { queryParam, type RequestFacts } from "./request-facts.ts";
import { compileStringMatch } from "./string-match.ts";

export interface ProxySelector {
  /** gateway names this proxy serves, fully qualified "ns/name", plus "mesh" for sidecars */
  gateways: ReadonlySet<string>;
  /** the VirtualService's own gateways, expanded to "ns/name" or "mesh" (empty = ["mesh"]) */
  defaultGateways: readonly string[];
  /** the proxy's workload labels */
  labels: Record<string, string>;
  /** the proxy's namespace */
  namespace: string;
  /** the VirtualService's namespace, for short gateway names in a match */
  vsNamespace: string;
}

type FactsPredicate = (f: RequestFacts) => boolean;

export interface CompiledMatchBlocks {
  /** the blocks that apply to this proxy, in order; a route without `match` keeps one empty block */
  readonly blocks: readonly HTTPMatchRequest[];
  /** index into `blocks` of the first block the request passes, or -1 */
  readonly first: (f: RequestFacts) => number;
}

/** Header keys Istio gives their own fields; as header matches they are ignored. */
const OWN_FIELDS = new Set(["uri", "scheme", "method", "authority"]);

/**
 * Istio's gateway reference forms: "mesh"; "name" (the VirtualService's namespace); "./name";
 * "ns/name"; and the legacy "name.ns.svc.cluster.local" (→ "ns/name").
 */
export function resolveGatewayName(name: string, vsNamespace: string): string {
  if (name === "mesh") return name;
  const slash = name.indexOf("/");
  if (slash !== -1) return name.slice(0, slash) === "." ? `${vsNamespace}/${name.slice(slash + 1)}` : name;
  const dot = name.indexOf(".");
  if (dot === -1) return `${vsNamespace}/${name}`;
  const rest = name.slice(dot + 1);
  const nsEnd = rest.indexOf(".");
  return `${nsEnd === -1 ? rest : rest.slice(0, nsEnd)}/${name.slice(0, dot)}`;
}

function servesAny(names: readonly string[], selector: ProxySelector): boolean {
  const list = names.length ? names : ["mesh"];
  return list.some((g) => selector.gateways.has(g));
}

/**
 * Does this block apply to this proxy at all? Its own `gateways` override the VirtualService's;
 * `sourceLabels` and `sourceNamespace` are AND'd with that. (Istio skips the source checks when a
 * block names gateways; dietmesh ANDs every field, as the API documents.)
 */
function blockApplies(m: HTTPMatchRequest, selector: ProxySelector): boolean {
  const gws = m.gateways?.length ? m.gateways.map((g) => resolveGatewayName(g, selector.vsNamespace)) : selector.defaultGateways;
  if (!servesAny(gws, selector)) return false;
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (selector.labels[k] !== v) return false;
  if (m.sourceNamespace && m.sourceNamespace !== selector.namespace) return false;
  // JWT claim routing needs authn results we do not have here: fail closed by dropping the block
  for (const k of Object.keys(m.headers ?? {})) if (k.startsWith("@request.auth.claims")) return false;
  for (const k of Object.keys(m.withoutHeaders ?? {})) if (k.startsWith("@request.auth.claims")) return false;
  return true;
}

function headerMatcher(key: string, sm: StringMatch, invert: boolean): FactsPredicate {
  const test = compileStringMatch(sm);
  // Envoy: present_match when no value is given; an inverted value match treats a missing header
  // as "" (treat_missing_header_as_empty), so absent satisfies withoutHeaders unless "" matches
  if (!test) return invert ? (f) => !f.headers.has(key) : (f) => f.headers.has(key);
  if (invert) return (f) => !test(f.headers.get(key) ?? "");
  return (f) => {
    const v = f.headers.get(key);
    return v !== null && test(v);
  };
}

function queryMatcher(key: string, sm: StringMatch): FactsPredicate {
  const test = compileStringMatch(sm);
  if (!test) return (f) => queryParam(f.query, key) !== undefined;
  return (f) => {
    const v = queryParam(f.query, key);
    return v !== undefined && test(v);
  };
}

/** One block's AND of its request-time conditions, cheapest first (selectors are not checked). */
export function compileMatchBlock(m: HTTPMatchRequest): FactsPredicate {
  const preds: FactsPredicate[] = [];
  if (m.port) {
    const port = m.port;
    preds.push((f) => f.port === port);
  }
  const field = (sm: StringMatch | undefined, read: (f: RequestFacts) => string, ignoreCase = false) => {
    const test = sm && compileStringMatch(sm, ignoreCase);
    if (test) preds.push((f) => test(read(f)));
  };
  field(m.method, (f) => f.method);
  field(m.scheme, (f) => f.scheme);
  field(m.uri, (f) => f.path, m.ignoreUriCase === true);
  field(m.authority, (f) => f.authority);
  for (const [k, sm] of Object.entries(m.headers ?? {})) {
    const key = k.toLowerCase();
    if (!OWN_FIELDS.has(key)) preds.push(headerMatcher(key, sm, false));
  }
  for (const [k, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const key = k.toLowerCase();
    if (!OWN_FIELDS.has(key)) preds.push(headerMatcher(key, sm, true));
  }
  for (const [k, sm] of Object.entries(m.queryParams ?? {})) preds.push(queryMatcher(k, sm));

  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  if (preds.length === 2) {
    const [a, b] = preds;
    return (f) => a(f) && b(f);
  }
  return (f) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i](f)) return false;
    return true;
  };
}

/**
 * Like compileMatches, but says which block matched — rewrite.uri needs it (each block is its own
 * Envoy route, and a prefix rewrite replaces that block's prefix). null when no block applies.
 */
export function compileMatchBlocks(match: HTTPMatchRequest[] | undefined, selector: ProxySelector): CompiledMatchBlocks | null {
  if (!match || match.length === 0) {
    if (!servesAny(selector.defaultGateways, selector)) return null;
    return { blocks: [{}], first: () => 0 };
  }
  const blocks = match.filter((m) => blockApplies(m, selector));
  if (blocks.length === 0) return null;
  const tests = blocks.map(compileMatchBlock);
  if (tests.length === 1) {
    const t = tests[0];
    return { blocks, first: (f) => (t(f) ? 0 : -1) };
  }
  return {
    blocks,
    first: (f) => {
      for (let i = 0; i < tests.length; i++) if (tests[i](f)) return i;
      return -1;
    },
  };
}

/**
 * Compiles `match[]` for this proxy: blocks are OR'd, the fields inside one are AND'd. Blocks whose
 * gateways/source selectors exclude this proxy are dropped; if none is left, returns null (the
 * route does not exist here). No `match` means always, when the VirtualService's gateways apply.
 */
export function compileMatches(match: HTTPMatchRequest[] | undefined, selector: ProxySelector): FactsPredicate | null {
  const compiled = compileMatchBlocks(match, selector);
  if (!compiled) return null;
  if (compiled.blocks.length === 1 && !match?.length) return () => true;
  const first = compiled.first;
  return (f) => first(f) !== -1;
}
