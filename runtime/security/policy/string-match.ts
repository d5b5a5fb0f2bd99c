// The string matching AuthorizationPolicy values use, compiled once into predicates: "abc"
// exact, "abc*" prefix, "*abc" suffix, "*" any non-empty value (Istio turns it into the regex
// ".+"). Only a leading or trailing "*" is special; one elsewhere is a literal character, as in
// Istio. Paths may also be Envoy URI templates with the {*} and {**} operators.

export type StringPredicate = (value: string) => boolean;

/** Istio's exact / prefix / suffix / presence match of one pattern */
export function istioMatcher(pattern: string, ignoreCase = false): StringPredicate {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const fold = ignoreCase ? (v: string) => v.toLowerCase() : (v: string) => v;
  if (p === "*") return (v) => v.length > 0;
  if (p.startsWith("*")) {
    const suffix = p.slice(1);
    return (v) => fold(v).endsWith(suffix);
  }
  if (p.endsWith("*")) {
    const prefix = p.slice(0, -1);
    return (v) => fold(v).startsWith(prefix);
  }
  return (v) => fold(v) === p;
}

/** true when any of the patterns matches */
export function anyOf(patterns: readonly string[], ignoreCase = false): StringPredicate {
  const ms = patterns.map((p) => istioMatcher(p, ignoreCase));
  if (ms.length === 1) return ms[0];
  return (v) => {
    for (const m of ms) if (m(v)) return true;
    return false;
  };
}

export const MATCH_ONE = "{*}";
export const MATCH_ANY = "{**}";

/** RFC 3986 pchar without "*" and "=", as Envoy's URI template literal */
const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@";
const LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/; // Istio's own check also lets "=" through

export const isPathTemplate = (path: string) => path.includes(MATCH_ONE) || path.includes(MATCH_ANY);

/** Istio's validation of a path template, or undefined when the path is fine */
export function pathTemplateProblem(path: string): string | undefined {
  const template = isPathTemplate(path);
  let sawAny = false;
  for (const glob of path.replace(/^\/+|\/+$/g, "").split("/")) {
    if (glob === MATCH_ONE || glob === MATCH_ANY) {
      if (sawAny) return `invalid path template ${JSON.stringify(path)}: {**} must be the last operator`;
      sawAny = glob === MATCH_ANY;
      continue;
    }
    if (/[{}]/.test(glob)) return `invalid path template ${JSON.stringify(path)}: "{" and "}" are only allowed as a whole {*} or {**} segment`;
    if (template && !LITERAL.test(glob)) {
      return `invalid path template ${JSON.stringify(path)}: segment ${JSON.stringify(glob)} has characters a template cannot match (including "*" outside {*} and {**})`;
    }
  }
  return undefined;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A template as Envoy matches it: {*} is one or more path characters within one segment, {**}
 * zero or more path characters including "/"; literals match exactly; the whole path must match.
 * The patterns are linear (at most one {**}), so a hostile path cannot make matching slow.
 */
export function pathTemplateMatcher(template: string): StringPredicate {
  const body = template
    .split("/")
    .map((seg) => (seg === MATCH_ONE ? `[${PCHAR}]+` : seg === MATCH_ANY ? `[${PCHAR}/]*` : escapeRegex(seg)))
    .join("/");
  const re = new RegExp(`^${body}$`);
  return (v) => re.test(v);
}

/** a paths / notPaths entry: a template or an Istio string pattern */
export function pathMatcher(pattern: string): StringPredicate {
  return isPathTemplate(pattern) ? pathTemplateMatcher(pattern) : istioMatcher(pattern);
}
