// RE2 regexes for route matching: whole-value match, linear time, compiled once at config time.
//
// Why not JS RegExp: it backtracks, so a pattern like `(a+)+$` against a long header value takes
// exponential time (ReDoS) and one request could stall the proxy. Istio regexes are RE2 (Envoy's
// safe_regex), which has no look-arounds or back-references and guarantees linear time; re2js is a
// faithful port. It costs ~1.5 µs a match against ~100 ns for a string method, so patterns that
// are provably plain (`LIT`, `LIT.*`, `.*LIT`, `.*LIT.*`, optionally `^…$`) skip the engine.
//
// The engine is loaded only for a config that has a regex (issue 16 cold start, issue 10 sidecar
// RSS: ~9 ms of import and ~2–3 MB): config load awaits loadRegexEngine when it finds one
// (config/load-engines.ts), before the synchronous validation and compile that use it.
import type { RE2JS } from "re2js";

let engine: typeof RE2JS | undefined;

/** loads re2js once; resolves at once when it is loaded */
export async function loadRegexEngine(): Promise<void> {
  engine ??= (await import("re2js")).RE2JS;
}

/** the engine; a config with a regex reached validation or compile without loadRegexEngine: a bug, not a config error */
export function regexEngine(): typeof RE2JS {
  if (!engine) throw new Error("dietmesh: the RE2 engine was not loaded before a regex was compiled (await loadRegexEngine() at config load)");
  return engine;
}

export type StringPredicate = (s: string) => boolean;

// RE2 reads `\` + any ASCII punctuation as that literal character; `\d`, `\b`, `\1`… are not literals.
const ESCAPABLE = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const META = "\\.+*?()|[]{}^$";
const QUANTIFIER = "*+?{";

/** Shape of a plain pattern: a literal with optional `.*` on either side; null when not plain. */
interface Plain {
  lead: boolean;
  literal: string;
  trail: boolean;
}

function plainShape(pattern: string): Plain | null {
  let p = pattern;
  if (p.startsWith("^")) p = p.slice(1);
  // a trailing `$` is an anchor unless escaped (`\$`): count the backslashes before it
  if (p.endsWith("$")) {
    let slashes = 0;
    for (let i = p.length - 2; i >= 0 && p[i] === "\\"; i--) slashes++;
    if (slashes % 2 === 0) p = p.slice(0, -1);
  }
  let lead = false;
  let trail = false;
  let literal = "";
  let i = 0;
  if (p.startsWith(".*")) {
    lead = true;
    i = 2;
  }
  while (i < p.length) {
    const c = p[i];
    if (c === "." && p[i + 1] === "*" && i + 2 === p.length) {
      trail = true;
      break;
    }
    let ch: string;
    if (c === "\\") {
      const next = p[i + 1];
      if (next === undefined || !ESCAPABLE.includes(next)) return null;
      ch = next;
      i += 2;
    } else {
      if (META.includes(c) || c === "\n") return null;
      ch = c;
      i += 1;
    }
    if (i < p.length && QUANTIFIER.includes(p[i])) return null;
    literal += ch;
  }
  if (lead && trail && literal === "") return null; // `.*.*` — leave it to the engine
  return { lead, literal, trail };
}

function fastPath(shape: Plain): StringPredicate {
  const { lead, literal, trail } = shape;
  // RE2's `.` does not match "\n", so a `.*` side only matches text without one
  if (lead && trail) return (s) => s.includes(literal) && !s.includes("\n");
  if (lead) return literal === "" ? (s) => !s.includes("\n") : (s) => s.endsWith(literal) && !s.includes("\n");
  if (trail) return (s) => s.startsWith(literal) && s.indexOf("\n", literal.length) === -1;
  return (s) => s === literal;
}

/**
 * The longest pattern text dietmesh compiles. re2js finds a pattern too large only after parsing
 * all of it (a 2 MB one took 2 s on Bun and 12 s on Deno to be refused, in every check and reload),
 * so text past this is refused before the engine sees it. Envoy's own bound is on the compiled
 * program (re2.max_program_size), which no realistic route regex of this length stays under.
 */
export const MAX_REGEX_LENGTH = 64 * 1024;

/** why the pattern's length alone rules it out, or undefined */
export function regexTooLong(pattern: string): string | undefined {
  if (pattern.length <= MAX_REGEX_LENGTH) return undefined;
  return `regex ${JSON.stringify(pattern.slice(0, 40))}… is ${pattern.length} characters long: longer than ${MAX_REGEX_LENGTH}, dietmesh's limit`;
}

/** Why the pattern is not a valid RE2 regex, or undefined when it is. */
export function regexError(pattern: string): string | undefined {
  const tooLong = regexTooLong(pattern);
  if (tooLong) return tooLong;
  const re2 = regexEngine(); // outside the try: not loaded is a bug, not an invalid regex
  try {
    re2.compile(pattern);
    return undefined;
  } catch (err) {
    return `invalid RE2 regex ${JSON.stringify(pattern)}: ${(err as Error).message}`;
  }
}

/**
 * Compiles an RE2 pattern into a whole-value predicate. Throws on an invalid pattern, so call
 * regexError at validation time; this runs only while building a route table, never per request.
 */
export function compileRegex(pattern: string): StringPredicate {
  const shape = plainShape(pattern);
  if (shape) return fastPath(shape);
  const re = regexEngine().compile(pattern);
  return (s) => re.matches(s);
}

/** The compiled RE2 object for callers that need captures (uriRegexRewrite). */
export function compileRe2(pattern: string): RE2JS {
  return regexEngine().compile(pattern);
}
