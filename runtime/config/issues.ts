// zod's issues → "field: what was expected, got what" messages, with one entry per unknown field
// and a "did you mean" when a known field is close. Used by load.ts for every schema failure.
import type { z } from "zod";
import { UNKNOWN_FIELDS } from "./schema-common.ts";

export interface FieldProblem {
  path: PropertyKey[];
  message: string;
}

/** a value as a message shows it: strings quoted, containers by kind */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null (an empty value)";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

const NOUNS: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  object: "a mapping (key: value)",
  record: "a mapping (key: value)",
  array: "a list",
};

function bound(issue: { origin?: string; inclusive?: boolean }, limit: unknown, small: boolean): string {
  if (issue.origin === "array") return `expected ${small ? "at least" : "at most"} ${limit} item${limit === 1 ? "" : "s"}`;
  if (issue.origin === "string") return `expected ${small ? "at least" : "at most"} ${limit} characters`;
  const op = small ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
  return `expected a number ${op} ${limit}`;
}

/** per-parse error map: the wording of every issue a schema did not word itself */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case "invalid_type": {
      const noun = NOUNS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `required field is missing (expected ${noun})` : `expected ${noun}, ${got}`;
    }
    case "too_small": {
      const len = Array.isArray(issue.input) ? `got ${issue.input.length}` : got;
      if (issue.origin === "string" && issue.minimum === 1) return "must not be empty";
      return `${bound(issue, issue.minimum, true)}, ${len}`;
    }
    case "too_big":
      return `${bound(issue, issue.maximum, false)}, ${Array.isArray(issue.input) ? `got ${issue.input.length}` : got}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}, ${got}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; ${got}`;
    case "invalid_format":
      return `expected ${issue.format}, ${got}`;
    default:
      return `invalid value, ${got}`;
  }
};

/** edits (insert, delete, change, swap two neighbours) that turn a into b */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const change = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + change);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** the known field the user most likely meant: proto snake_case, wrong case, or a small typo */
export function closestField(key: string, known: string[]): string | undefined {
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()).toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === camel);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = key.length > 4 ? 3 : 2;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

export function issueProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  // "rout:" both is unknown and leaves "route" missing; say only the first, which has the fix
  const meant = new Set<string>();
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys" && issue.message.startsWith(UNKNOWN_FIELDS)) {
      const known = issue.message.slice(UNKNOWN_FIELDS.length).split(",").filter(Boolean);
      for (const key of issue.keys) {
        const guess = closestField(key, known);
        if (guess) meant.add(JSON.stringify([...issue.path, guess]));
        const hint = guess ? ` (did you mean "${guess}"?)` : known.length ? `; expected one of: ${known.join(", ")}` : "";
        out.push({ path: [...issue.path, key], message: `unknown field "${key}"${hint}` });
      }
    }
  }
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys" && issue.message.startsWith(UNKNOWN_FIELDS)) continue;
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    if (missing && meant.has(JSON.stringify(issue.path))) continue;
    out.push({ path: [...issue.path], message: issue.message });
  }
  return out;
}
