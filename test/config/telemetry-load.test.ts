// Telemetry (telemetry.istio.io) at load: kept as written for telemetry/telemetry-resource.ts, but
// validated first — what dietmesh cannot honour is an error naming file, resource and field path
// (and line), so a config change carrying it is refused and the last good config stays.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { memoryIO } from "./memory-io.ts";

const load = (spec: string) =>
  loadConfig(["t.yaml"], { defaultNamespace: "default", ...memoryIO({ "t.yaml": `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: t\n  namespace: shop\nspec:\n${spec}` }) });

async function refused(spec: string): Promise<[string | undefined, number | undefined, string][]> {
  const { config, errors } = await load(spec);
  assert.is(config, undefined);
  for (const e of errors) assert.equal([e.file, e.kind, e.namespace, e.name], ["t.yaml", "Telemetry", "shop", "t"]);
  return errors.map((e) => [e.path, e.line, e.message]);
}

test("what dietmesh honours loads: selector, envoy access logging on or off, match CLIENT_AND_SERVER, prometheus metrics", async () => {
  const { errors, config } = await load(`  selector: { matchLabels: { app: reviews } }
  accessLogging:
  - providers: [{ name: envoy }]
    match: { mode: CLIENT_AND_SERVER }
  - disabled: true
  metrics:
  - providers: [{ name: prometheus }]
`);
  assert.equal(errors, []);
  assert.equal(config!.other.map((r) => r.kind), ["Telemetry"]);
});

test("filter is refused: dietmesh does not evaluate CEL", async () => {
  const got = await refused("  accessLogging:\n  - providers: [{ name: envoy }]\n    filter: { expression: response.code >= 400 }\n");
  assert.equal(got.map(([path, line]) => [path, line]), [["spec.accessLogging[0].filter", 9]]);
  assert.match(got[0][2], /does not evaluate CEL/);
});

test("match.mode CLIENT, SERVER or CLIENT_AND_SERVER load (each side has its own switch); another value is refused", async () => {
  for (const mode of ["CLIENT", "SERVER", "CLIENT_AND_SERVER"]) {
    const { config, errors } = await load(`  accessLogging:\n  - match: { mode: ${mode} }\n    disabled: true\n`);
    assert.ok(config, `${mode}: ${JSON.stringify(errors)}`);
  }
  const got = await refused("  accessLogging:\n  - match: { mode: BOTH }\n    disabled: true\n");
  assert.equal(got.map(([path]) => path), ["spec.accessLogging[0].match.mode"]);
});

test("providers other than envoy are refused, by their index", async () => {
  const got = await refused("  accessLogging:\n  - providers: [{ name: envoy }, { name: otel }]\n");
  assert.equal(got.map(([path]) => path), ["spec.accessLogging[0].providers[1].name"]);
  assert.match(got[0][2], /"envoy"/);
});

test("tracing customTags, metrics overrides and reportingInterval, other metrics providers and targetRefs are refused", async () => {
  const got = await refused(`  tracing:
  - randomSamplingPercentage: 10
    customTags: { team: { literal: { value: a } } }
  metrics:
  - providers: [{ name: stackdriver }]
    overrides: [{ disabled: true }]
    reportingInterval: 5s
  targetRefs: [{ kind: Service, name: reviews }]
`);
  assert.equal(got.map(([path]) => path).sort(), ["spec.metrics[0].overrides", "spec.metrics[0].providers[0].name", "spec.metrics[0].reportingInterval", "spec.targetRefs", "spec.tracing[0].customTags"]);
});

test("tracing with providers, randomSamplingPercentage, disableSpanReporting and match loads; a percentage over 100 is refused", async () => {
  const { config, errors } = await load("  tracing:\n  - providers: [{ name: otel-tracing }]\n    randomSamplingPercentage: 25.5\n    disableSpanReporting: false\n    match: { mode: CLIENT }\n");
  assert.ok(config, JSON.stringify(errors));
  const got = await refused("  tracing:\n  - randomSamplingPercentage: 101\n");
  assert.equal(got.map(([path]) => path), ["spec.tracing[0].randomSamplingPercentage"]);
});

test("unknown fields are errors, as the CRD makes them", async () => {
  const got = await refused("  accessLoging:\n  - providers: [{ name: envoy }]\n");
  assert.equal(got.map(([path]) => path), ["spec.accessLoging"]);
});

test.run();
