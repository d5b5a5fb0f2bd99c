// A VirtualService route's corsPolicy, compiled once at config time into what the CORS filter
// (filters/cors.ts) reads per request: an origin test and the header values, already joined.
// Istio's translation to Envoy's CorsPolicy: lists joined with ",", maxAge in whole seconds, the
// deprecated allowOrigin as exact matches when allowOrigins is absent, unmatchedPreflights IGNORE
// as forward_not_matching_preflights false (FORWARD and UNSPECIFIED forward).
import type { CorsPolicy as CorsPolicySpec } from "../config/types.ts";
import { compileStringMatch, type StringPredicate } from "./string-match.ts";

export interface CorsPolicy {
  /** whether the Origin header's value is allowed */
  allowsOrigin(origin: string): boolean;
  /** "" when unset; "*" echoes the request's Access-Control-Request-Method (Envoy) */
  readonly allowMethods: string;
  /** "" when unset; "*" echoes the request's Access-Control-Request-Headers (Envoy) */
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  /** seconds, "" when unset */
  readonly maxAge: string;
  readonly allowCredentials: boolean;
  /** a preflight from an origin that is not allowed goes upstream (true) or is answered 200 without CORS headers */
  readonly forwardUnmatchedPreflights: boolean;
}

export function compileCorsPolicy(spec: CorsPolicySpec | undefined): CorsPolicy | undefined {
  if (!spec) return undefined;
  const matches = spec.allowOrigins ?? []; // the schema folds the deprecated allowOrigin in
  // a present-match ({}) matches nothing here: Envoy's StringMatcher needs one of its kinds
  const predicates = matches.map((m) => compileStringMatch(m)).filter((p): p is StringPredicate => p !== null);
  // Envoy asks each matcher about "*" too: a matcher that accepts the string "*" allows any origin
  const anyOrigin = predicates.some((p) => p("*"));
  const allowsOrigin = anyOrigin
    ? () => true
    : predicates.length === 1
      ? predicates[0]
      : (origin: string) => predicates.some((p) => p(origin));
  return {
    allowsOrigin,
    allowMethods: (spec.allowMethods ?? []).join(","),
    allowHeaders: (spec.allowHeaders ?? []).join(","),
    exposeHeaders: (spec.exposeHeaders ?? []).join(","),
    maxAge: spec.maxAge === undefined ? "" : String(Math.floor(spec.maxAge / 1000)),
    allowCredentials: spec.allowCredentials === true,
    forwardUnmatchedPreflights: spec.unmatchedPreflights !== "IGNORE",
  };
}
