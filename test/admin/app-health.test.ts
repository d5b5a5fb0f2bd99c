// parseAppProbes checks --app-probes by hand (a serving sidecar never loads zod): its first
// message, for each of many bad inputs, must be the one the zod schema it replaced gives. The
// schema is kept here as the oracle.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { z } from "zod";
import { parseAppProbes } from "../../runtime/admin/app-health.ts";
import { formatPath } from "../../runtime/config/errors.ts";

const probeSchema = z.strictObject({
  httpGet: z.strictObject({
    path: z.string().startsWith("/", "expected a path starting with /"),
    port: z.number().int().min(1).max(65535),
    scheme: z.literal("HTTP", "only HTTP probes are answered by the sidecar").optional(),
    httpHeaders: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
  }),
  timeoutSeconds: z.number().int().min(1).optional(),
});
const probesSchema = z.record(z.string(), probeSchema);

/** what the zod version said (or "ok") */
function oracle(value: unknown): string {
  const parsed = probesSchema.safeParse(JSON.parse(JSON.stringify(value))); // as the flag carries it
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return issue.path.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message;
  }
  return "ok";
}

function ours(value: unknown): string {
  try {
    parseAppProbes(JSON.stringify(value));
    return "ok";
  } catch (error) {
    return (error as Error).message;
  }
}

const P = "/app-health/web/livez";
const good = { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP", httpHeaders: [{ name: "X-Probe", value: "kubelet" }] }, timeoutSeconds: 3 };
/** one field of the good probe replaced, at a dotted path */
function withField(path: string, value: unknown): unknown {
  const probe = structuredClone(good) as Record<string, unknown>;
  const keys = path.split(".");
  let at: Record<string, unknown> = probe;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  if (value === undefined) delete at[keys[keys.length - 1]];
  else at[keys[keys.length - 1]] = value;
  return { [P]: probe };
}

const odd = [null, true, 0, -1, 1.5, 70000, "", "x", "/", [], {}, [1], { a: 1 }];
const fields = ["httpGet", "httpGet.path", "httpGet.port", "httpGet.scheme", "httpGet.httpHeaders", "httpGet.httpHeaders.0", "httpGet.httpHeaders.0.name", "httpGet.httpHeaders.0.value", "timeoutSeconds", "httpGet.extra", "extra"];

test("every field replaced by every odd value: the same first message as the zod schema", () => {
  let compared = 0;
  let errors = 0;
  for (const field of fields) {
    for (const value of [...odd, undefined]) {
      const input = withField(field, value);
      const expected = oracle(input);
      // the path check comes after the shape in both versions; only shapes are compared here
      assert.is(ours(input), expected, `${field} = ${JSON.stringify(value)}`);
      compared++;
      if (expected !== "ok") errors++;
    }
  }
  assert.ok(errors > 100, `most replacements are errors (${errors} of ${compared})`);
});

test("several problems at once, top-level shapes, and the good probe", () => {
  const cases: unknown[] = [
    [],
    "x",
    null,
    7,
    { [P]: 1 },
    { [P]: { httpGet: { path: "/", port: 80 }, other: 1, more: 2 } },
    { [P]: { httpGet: { path: 5, port: "80", extra: 1 }, timeoutSeconds: 0 } },
    { [P]: { httpGet: { port: 0, extra: 1 }, other: 1 } },
    { [P]: { httpGet: { path: "/", port: 80, httpHeaders: [{ name: "a", value: "b" }, { name: "", value: 1, x: 1 }] } } },
    { [P]: good, "/app-health/web/readyz": { httpGet: { path: "/", port: 1.5 } } },
    { [P]: good },
  ];
  for (const input of cases) assert.is(ours(input), oracle(input), JSON.stringify(input));
  assert.is(ours({ [P]: good }), "ok");
});

test("the path rule and JSON errors are checked as before", () => {
  assert.match(ours({ "/healthz": good }), /^"\/healthz": expected \/app-health\/<container>\/<livez\|readyz\|startupz>$/);
  assert.throws(() => parseAppProbes("{nope"), /^not JSON: /);
  assert.equal([...parseAppProbes(JSON.stringify({ [P]: good })).entries()], [[P, good]]);
});

test.run();
