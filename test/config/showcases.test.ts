// Every file of the upstream showcases (unmodified Istio YAML from the wild) must load cleanly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";

// the seed's showcases as the repository carries them (demo/<folder>/istio/, checked byte for byte
// against the seed by the demo-copies tests where the seed is present)
const root = new URL("../../demo", import.meta.url).pathname;
const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };
const load = (...paths: string[]) => loadConfig(paths, { defaultNamespace: "default", ...io });

const files: string[] = [];
for (const dir of ["hello-istio/istio", "alphabet/istio"]) {
  for (const name of await platform.readDir(`${root}/${dir}`)) if (name.endsWith(".yaml")) files.push(`${root}/${dir}/${name}`);
}

const ISTIO = new Set(["Gateway", "VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry"]);

test("the showcases are where the test expects them", () => {
  assert.ok(files.length >= 30, `found ${files.length} files under ${root}`);
});

for (const file of files) {
  test(`loads ${file.slice(root.length + 1)} with no error`, async () => {
    const result = await load(file);
    assert.equal(result.errors.map(formatConfigError), []);
    assert.ok(result.config);
    const text = await platform.readTextFile(file);
    const kinds = [...text.matchAll(/^kind: (\w+)/gm)].map((m) => m[1]);
    const c = result.config!;
    const loaded = c.gateways.length + c.virtualServices.length + c.destinationRules.length + c.serviceEntries.length;
    assert.is(loaded, kinds.filter((k) => ISTIO.has(k)).length);
    // one notice per skipped kind (Service, Deployment, Ingress), none for Istio kinds
    const skipped = [...new Set(kinds.filter((k) => !ISTIO.has(k)))];
    assert.equal(result.notices.map((n) => [n.code, n.severity, n.kind]), skipped.map((k) => ["skipped-kind", "info", k]));
  });
}

test("hello-istio.yaml: one Service notice, one Deployment notice naming all three", async () => {
  const result = await load(`${root}/hello-istio/istio/hello-istio.yaml`);
  const [service, deployment] = result.notices;
  assert.is(service.kind, "Service");
  assert.is(service.document, 0);
  assert.is(deployment.kind, "Deployment");
  assert.is(deployment.document, 1); // the first Deployment's document
  assert.match(deployment.message, /3: hello-istio-v1, hello-istio-v2, hello-istio-client/);
  assert.equal(result.skipped.map((s) => `${s.kind}/${s.name}`), [
    "Service/hello-istio", "Deployment/hello-istio-v1", "Deployment/hello-istio-v2", "Deployment/hello-istio-client",
  ]);
});

test("durations become milliseconds and deprecated fields survive", async () => {
  const { config } = await load(
    `${root}/alphabet/istio/a-service-destination.yaml`,
    `${root}/alphabet/istio/a-service-virtual-service.yaml`,
    `${root}/alphabet/istio/alphabet-service-fault.yaml`,
  );
  const od = config!.destinationRules[0].spec.trafficPolicy!.outlierDetection!;
  assert.equal(od, { baseEjectionTime: 5000, consecutiveErrors: 1, interval: 1000, maxEjectionPercent: 100 });
  assert.is(config!.virtualServices[0].spec.http[0].timeout, 1000);
  const fault = config!.virtualServices[1].spec.http[0].fault!;
  assert.equal(fault, { delay: { fixedDelay: 2000, percent: 50 }, abort: { httpStatus: 500, percent: 50 } });
});

test("weights, header regexes and gateways load as written", async () => {
  const { config } = await load(`${root}/hello-istio/istio/hello-istio-25-75.yaml`, `${root}/hello-istio/istio/hello-istio-gateway.yaml`);
  const vs = config!.virtualServices[0];
  assert.equal(vs.metadata, { name: "hello-istio", namespace: "default", labels: {}, annotations: {} });
  assert.equal(vs.spec.http[0].route!.map((r) => [r.destination.subset, r.weight]), [["v1", 75], ["v2", 25]]);
  assert.equal(config!.gateways[0].spec.servers[0].port, { number: 80, name: "http", protocol: "HTTP" });
  assert.equal(config!.gateways[0].spec.selector, { istio: "ingressgateway" });
});

test("a folder holding alternative versions of one VirtualService is rejected as duplicates", async () => {
  const result = await load(`${root}/hello-istio/istio`);
  assert.is(result.config, undefined);
  assert.ok(result.errors.length > 0);
  assert.ok(result.errors.every((e) => e.code === "duplicate" && e.kind === "VirtualService" && e.name === "hello-istio"));
});

test.run();
