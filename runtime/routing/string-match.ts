// Istio StringMatch (exact / prefix / regex) compiled once into a predicate over a string value.
import type { StringMatch } from "../config/types.ts";
import { compileRegex, regexError, type StringPredicate } from "./regex.ts";

export type { StringPredicate } from "./regex.ts";

/**
 * True when the match constrains nothing, which for headers and query parameters means "present":
 * `{}`, or Istio's special `regex: "*"` (not valid RE2; Istio turns it into Envoy's present_match).
 */
export function isPresentMatch(m: StringMatch | undefined | null): boolean {
  if (!m) return true;
  if (m.exact !== undefined || m.prefix !== undefined) return false;
  return m.regex === undefined || m.regex === "*";
}

/** Why the StringMatch cannot be compiled, or undefined when it can. */
export function stringMatchError(m: StringMatch | undefined | null): string | undefined {
  if (!m) return undefined;
  const set = (m.exact !== undefined ? 1 : 0) + (m.prefix !== undefined ? 1 : 0) + (m.regex !== undefined ? 1 : 0);
  if (set > 1) return "a string match takes only one of exact, prefix, regex";
  if (m.regex !== undefined && m.regex !== "*") return regexError(m.regex);
  return undefined;
}

/** ASCII-only case folding, as Envoy's ignore_case (absl::EqualsIgnoreCase) does; no allocation. */
function equalsIgnoreCaseAt(s: string, lowerLiteral: string, offset: number): boolean {
  for (let i = 0; i < lowerLiteral.length; i++) {
    let c = s.charCodeAt(offset + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerLiteral.charCodeAt(i)) return false;
  }
  return true;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Compiles a StringMatch. Returns null when it is a "present" match (see isPresentMatch): the
 * caller decides what presence means. `ignoreCase` applies to exact and prefix only — as in Envoy,
 * it has no effect on regex. `prefix` is a raw string prefix ("/api" matches "/apiv2").
 */
export function compileStringMatch(m: StringMatch | undefined | null, ignoreCase = false): StringPredicate | null {
  if (!m || isPresentMatch(m)) return null;
  if (m.exact !== undefined) {
    const lit = m.exact;
    if (!ignoreCase) return (s) => s === lit;
    const lower = asciiLower(lit);
    return (s) => s.length === lower.length && equalsIgnoreCaseAt(s, lower, 0);
  }
  if (m.prefix !== undefined) {
    const lit = m.prefix;
    if (lit === "") return () => true;
    if (!ignoreCase) return (s) => s.startsWith(lit);
    const lower = asciiLower(lit);
    return (s) => s.length >= lower.length && equalsIgnoreCaseAt(s, lower, 0);
  }
  return compileRegex(m.regex as string);
}
