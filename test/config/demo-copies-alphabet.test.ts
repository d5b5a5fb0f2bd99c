// The alphabet demo ships the seed's YAML; it must stay byte-for-byte the original. And every
// scenario `dietmesh demo switch` can put into the live folder loads with the fixed files beside it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { assertSeedCopies, showcaseRoot } from "../support/seed-copies.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { analyzeConfig } from "../../runtime/config/analyze.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { defaultScenarios, fixedFiles, resolveScenario, scenarioNames } from "../../runtime/cli/demo-scenarios.ts";

const root = new URL("../../", import.meta.url).pathname;
const original = `${showcaseRoot}/alphabet`;
const copy = `${root}demo/alphabet/istio`;
const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };

test("demo/alphabet/istio holds the seed's files unmodified", async () => {
  if (!(await assertSeedCopies(copy, original, 19))) return;
  assert.is(await platform.readTextFile(`${copy}/LICENSE`), await platform.readTextFile(`${showcaseRoot}/LICENSE`), "LICENSE");
});

test("scenario names resolve to files that exist, seed files for the seed's variants", async () => {
  const sources = new Set(scenarioNames.flatMap(resolveScenario).map((c) => c.source));
  for (const source of sources) {
    assert.ok((await platform.readTextFile(`${root}${source}`)).includes("kind: VirtualService"), source);
    assert.ok(source.startsWith("demo/hello-istio/istio/") || source.startsWith("demo/alphabet/istio/") || source.startsWith("demo/alphabet/dietmesh/"), source);
  }
  assert.equal(resolveScenario("v2"), resolveScenario("hello:v2"));
  assert.equal(resolveScenario("abc:none").map((c) => c.source), resolveScenario("abc:plain").map((c) => c.source));
  assert.equal(resolveScenario("abc:timeout").map((c) => c.slot), ["a-service", "b-service", "c-service"]);
  assert.is(resolveScenario("alphabet:retries")[0].source, "demo/alphabet/istio/alphabet-service-virtual-service.yaml");
  for (const bad of ["v3", "alphabet:v1", "abc:fault", "d:timeout", "alphabet:"]) assert.throws(() => resolveScenario(bad), bad);
});

// what the live folder holds for one choice per slot; the registry the demo writes names the hosts
const registry = ["hello-istio", "spelling-service", "alphabet-service", "a-service", "b-service", "c-service"].map((s) => `${s}.default.svc.cluster.local`);

for (const name of scenarioNames) {
  test(`the live folder loads cleanly with ${name}`, async () => {
    const slots = new Map<string, string>();
    for (const c of [...defaultScenarios, name].flatMap(resolveScenario)) slots.set(c.slot, c.source);
    const files = [...fixedFiles, ...slots.values()].map((f) => `${root}${f}`);
    const result = await loadConfig(files, { defaultNamespace: "default", ...io });
    assert.equal(result.errors.map(formatConfigError), []);
    const errors = analyzeConfig(result.config!, { knownHosts: registry }).filter((e) => e.severity === "error");
    assert.equal(errors.map(formatConfigError), []);
    assert.is(result.config!.virtualServices.length, 6); // hello-istio, spelling-service, alphabet-, a-, b-, c-service
  });
}

test.run();
