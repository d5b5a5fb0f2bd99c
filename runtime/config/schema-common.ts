// Building blocks shared by the Istio schemas: strict objects, ports, percents, durations, hosts
// and RE2-checked regexes. Each one says in its message what Istio expects.
import { z } from "zod";
import { regexEngine, regexTooLong } from "../routing/regex.ts";
import { parseDuration } from "./duration.ts";

/** prefix of the message a strict object gives for unknown keys; issues.ts turns it into one error per key */
export const UNKNOWN_FIELDS = "unknown-fields:";

/** value a field takes when Istio allows it but dietmesh ignores it; load.ts strips it and warns */
export const UNSUPPORTED: unique symbol = Symbol("unsupported");

// Kubernetes prunes null fields of CRDs before validating ("timeout:" with nothing after it is
// absent), so objects do the same. Maps keep their nulls: a null header match is an error in Istio.
function dropNullKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const entries = Object.entries(value).filter(([, v]) => v !== null);
  return entries.length === Object.keys(value).length ? value : Object.fromEntries(entries);
}

/** an object that rejects fields it does not name, as Istio's CRDs do */
export function obj<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape).join(",");
  const error = (issue: { code?: string }) => (issue.code === "unrecognized_keys" ? UNKNOWN_FIELDS + known : undefined);
  return z.preprocess(dropNullKeys, z.strictObject(shape, { error }));
}

/** the schemas unsupported() and rejected() made, so the field audit (test/config/schema-audit.test.ts) can tell them */
export const UNSUPPORTED_FIELDS = new WeakSet<object>();
export const REJECTED_FIELDS = new WeakSet<object>();

/** accepted for compatibility with Istio YAML, then dropped with a warning (the audit test fails on any) */
export function unsupported<T extends z.ZodType>(schema: T) {
  const field = schema.transform((): typeof UNSUPPORTED => UNSUPPORTED).optional();
  UNSUPPORTED_FIELDS.add(field);
  return field;
}

/** a cross-field rule, run only when the fields themselves are valid: one mistake, one message */
export function rule<T>(fn: (ctx: z.core.ParsePayload<T>) => void) {
  return (ctx: z.core.ParsePayload<T>) => {
    if (!ctx.issues.length) fn(ctx);
  };
}

/** a valid Istio field dietmesh refuses, because ignoring it would change behaviour unsafely */
export function rejected(message: string) {
  const field = z
    .unknown()
    .check((ctx) => void ctx.issues.push({ code: "custom", input: ctx.value, message }))
    .optional();
  REJECTED_FIELDS.add(field);
  return field;
}

/** a valid Istio field dietmesh honours only in the values that mean what it does anyway; others are refused */
export function honouredOnly<T extends z.ZodType>(schema: T, ok: (value: z.output<T>) => boolean, message: string) {
  return schema.check((ctx) => {
    if (!ok(ctx.value as z.output<T>)) ctx.issues.push({ code: "custom", input: ctx.value, message });
  }).optional();
}

/** exportTo: every dietmesh proxy sees every resource, which is Istio's default "*"; narrower lists are refused */
export const exportTo = honouredOnly(z.array(z.string()), (list) => list.every((ns) => ns === "*"), 'exportTo other than ["*"] is not supported by dietmesh yet (every proxy sees every resource)');

export const str = z.string();
export const bool = z.boolean();
export const stringList = z.array(z.string());
export const stringMap = z.record(z.string(), z.string());
export const nonNegativeInt = z.int().min(0);
export const int32 = z.int().min(0).max(2 ** 31 - 1);
export const port = z.int().min(1).max(65535);
/** 0–100, fractions allowed (Istio's Percent is a double) */
export const percentValue = z.number().min(0).max(100);
export const percent = obj({ value: percentValue });
/** the deprecated integer percent fields */
export const intPercent = z.int().min(0).max(100);

const DURATION_HINT = `expected a duration such as "1s", "0.5s" or "100ms"`;

/** a duration string → milliseconds; Istio's CRDs want at least 1ms unless zero means something */
export function duration(options: { allowZero?: boolean } = {}) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? undefined : `${DURATION_HINT}, got ${JSON.stringify(issue.input)}`) })
    .transform((text, ctx) => {
      try {
        const ms = parseDuration(text);
        if (ms < 1 && !(options.allowZero && ms === 0)) {
          ctx.issues.push({ code: "custom", input: text, message: `must be at least 1ms, got ${JSON.stringify(text)}` });
          return z.NEVER;
        }
        return ms;
      } catch (e) {
        ctx.issues.push({ code: "custom", input: text, message: (e as Error).message });
        return z.NEVER;
      }
    });
}

/** why a pattern is not valid RE2 (the syntax Envoy uses), or undefined when it compiles */
export function re2Problem(pattern: string): string | undefined {
  const tooLong = regexTooLong(pattern);
  if (tooLong) return tooLong;
  // loaded by config/load-engines.ts for objects with a regex, by load.ts for a file with one (outside the
  // try: an engine not loaded is a bug to surface, not an invalid regex)
  const re2 = regexEngine();
  try {
    re2.compile(pattern);
    return undefined;
  } catch (e) {
    const shown = JSON.stringify(pattern);
    // RE2's own wording for these two is obscure ("invalid named capture"); say what is going on
    if (/\(\?<?[=!]/.test(pattern)) {
      return `invalid regex ${shown}: look-ahead and look-behind ((?=, (?!, (?<=, (?<!) are not supported by RE2`;
    }
    if (/\\[1-9]/.test(pattern)) return `invalid regex ${shown}: back-references (\\1 ...) are not supported by RE2`;
    const reason = String((e as Error).message).replace(/^error parsing regexp: /, "");
    return `invalid regex ${shown}: ${reason} (RE2 syntax)`;
  }
}

export const regex = z
  .string()
  .min(1, { error: "regex must not be empty" })
  .check((ctx) => {
    const problem = re2Problem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  });

/** Istio's StringMatch: one of exact, prefix, regex ({} means "present" in header matches) */
export const stringMatch = obj({ exact: str.optional(), prefix: str.optional(), regex: regex.optional() }).check(rule((ctx) => {
  const set = (["exact", "prefix", "regex"] as const).filter((k) => ctx.value[k] !== undefined);
  if (set.length > 1) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `only one of exact, prefix or regex may be set, got ${set.join(" and ")}` });
  }
}));

/** a host name as a route destination or DestinationRule names it: no scheme, no port */
export const hostName = z
  .string()
  .min(1, { error: "host must not be empty" })
  .check((ctx) => {
    const h = ctx.value;
    let problem: string | undefined;
    if (h.includes("://")) problem = "a host name, not a URL (drop the scheme)";
    else if (h.includes(":") && !h.startsWith("[")) problem = "a host name without a port (use the port field)";
    else if (/[\s/]/.test(h)) problem = "a host name (no spaces or slashes)";
    if (problem) ctx.issues.push({ code: "custom", input: h, message: `expected ${problem}, got ${JSON.stringify(h)}` });
  });

export const portSelector = obj({ number: port.optional() });

/** Kubernetes object names: DNS-1123 subdomain */
export const objectName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: (issue) => `expected a lower-case DNS-1123 name (a-z, 0-9, "-", "."), got ${JSON.stringify(issue.input)}`,
  })
  .max(253);

/** namespaces, subset names, port names: DNS-1123 label */
export const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    error: (issue) => `expected a lower-case DNS-1123 label (a-z, 0-9, "-"), got ${JSON.stringify(issue.input)}`,
  })
  .max(63);

/** the metadata fields dietmesh reads; the rest of ObjectMeta (uid, resourceVersion, ...) is dropped */
export const metadata = z.object({
  name: objectName,
  namespace: dnsLabel.optional(),
  labels: stringMap.nullish().transform((v) => v ?? {}),
  annotations: stringMap.nullish().transform((v) => v ?? {}),
  // kubectl writes "creationTimestamp: null"; the yaml package leaves timestamps as strings
  creationTimestamp: str.nullish().transform((v) => v ?? undefined),
});
