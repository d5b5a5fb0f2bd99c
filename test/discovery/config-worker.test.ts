// loadConfigInWorker against loadConfig in process: the same LoadResult (config, errors with file,
// resource and field path, notices, skipped) for the demo meshes, a broken file and registry
// resources passed as data; the answer frozen as load.ts freezes it; a real worker answered
// (no in-process fallback); and the clonable() guard for what postMessage cannot carry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { loadConfigInWorker } from "../../runtime/discovery/config-worker.ts";
import { clonable, runParse } from "../../runtime/discovery/config-load-task.ts";
import { incrementalConfigLoader } from "../../runtime/discovery/config-worker.ts";
import { resourceIO } from "../../runtime/model/registry-resources.ts";
import { inProcessFallbacks } from "../../runtime/lib/worker-call.ts";
import { platform } from "../../runtime/platform/index.ts";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };
const dir = await platform.makeTempDir("dietmesh-config-worker-");

async function both(paths: string[], extra = new Map<string, string>()) {
  const inProcess = await loadConfig(paths, { defaultNamespace: "default", ...resourceIO(io, extra) });
  // worker: true, so Deno (whose default is in process) runs the worker path too
  const inWorker = await loadConfigInWorker(paths, { defaultNamespace: "default", extra, worker: true });
  return { inProcess, inWorker };
}

test("the demo meshes load to the same config in the worker as in process", async () => {
  for (const demo of ["demo/hello-istio", "demo/alphabet", "demo/security"]) {
    const { inProcess, inWorker } = await both([demo]);
    assert.ok(inProcess.config, `${demo} loads`);
    assert.equal(inWorker, inProcess, demo);
    assert.ok(Object.isFrozen(inWorker.config) && Object.isFrozen(inWorker.config!.virtualServices[0]), "frozen, as load.ts freezes");
  }
});

test("a broken file: the same errors, with file, resource and field path", async () => {
  await platform.writeTextFile(
    `${dir}/bad.yaml`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, port: { number: 99999 } }
      weight: -1
    timeout: soon
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: dr }
spec: { host: reviews, unknownField: 1 }
---
not: [valid
`,
  );
  const { inProcess, inWorker } = await both([`${dir}/bad.yaml`]);
  assert.is(inWorker.config, undefined);
  assert.ok(inProcess.errors.length >= 3, "several errors");
  assert.ok(inProcess.errors.some((e) => e.path && e.path.length > 2), "some with a field path");
  assert.equal(inWorker.errors, inProcess.errors);
  assert.equal(inWorker.notices, inProcess.notices);
});

test("registry resources go in as data and are loaded like files", async () => {
  const resource = JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: "shop" }, spec: { hosts: ["api.example.com"], ports: [{ number: 443, name: "https", protocol: "TLS" }], resolution: "DNS" } });
  const extra = new Map([["kubernetes:ServiceEntry/shop/ext", resource]]);
  const { inProcess, inWorker } = await both(["demo/hello-istio", ...extra.keys()], extra);
  assert.is(inWorker.config?.serviceEntries.some((s) => s.metadata.name === "ext"), true);
  assert.equal(inWorker, inProcess);
  assert.is(inProcessFallbacks(), 0, "every load above ran in a worker");
});

test("clonable: symbol values dropped like the schemas' UNSUPPORTED, functions refused", () => {
  const marker = Symbol("unsupported");
  assert.equal(clonable({ a: 1, b: marker, c: [{ d: marker, e: "x" }] }), { a: 1, c: [{ e: "x" }] });
  assert.throws(() => clonable({ a: { f: () => 1 } }), /config\.a\.f: a function cannot leave the config worker/);
});

test("parsed files leave the worker as JSON only when JSON carries them exactly", async () => {
  const plain = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: a }\nspec: { hosts: [a], http: [{ route: [{ destination: { host: a } }] }] }\n";
  // a value JSON would change (-0; Infinity and NaN can no longer pass any schema): -0 is the one a
  // valid resource can hold, as a weight
  const weighted = "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: w }\nspec: { address: 10.0.0.1, weight: -0 }\n";
  const [p, o] = await runParse({ defaultNamespace: "default", files: [["p.yaml", plain], ["o.yaml", weighted]] }, true);
  assert.ok(!Array.isArray(p) && typeof p.json === "string", "a plain file goes as JSON");
  assert.ok(Array.isArray(o), "a file with -0 goes as objects");
  await platform.mkdir(`${dir}/json`);
  await platform.writeTextFile(`${dir}/json/p.yaml`, plain);
  await platform.writeTextFile(`${dir}/json/o.yaml`, weighted);
  const inWorker = await incrementalConfigLoader({ defaultNamespace: "default", worker: true }).load([`${dir}/json`]);
  const inProcess = await loadConfig([`${dir}/json`], { defaultNamespace: "default", ...io });
  assert.ok(inWorker.config, JSON.stringify(inWorker.errors));
  assert.equal(inWorker, inProcess);
  assert.ok(Object.is(inWorker.config!.workloadEntries[0].spec.weight, -0), "exact after the worker");
  assert.is(inProcessFallbacks(), 0);
});

test.after(() => platform.remove(dir));
test.run();
