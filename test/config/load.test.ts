// loadConfig: folders, namespaces, documents, kinds it skips or keeps, Kubernetes quirks, freezing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

const load = (files: Record<string, string>, paths = Object.keys(files), extra = {}) =>
  loadConfig(paths, { defaultNamespace: "default", ...memoryIO(files), ...extra });

const vs = (name: string, more = "") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
${more}spec:
  hosts: [${name}]
  http:
  - route:
    - destination:
        host: ${name}
`;

test("fills the default namespace and keeps an explicit one", async () => {
  const { config } = await load({ "a.yaml": `${vs("a")}---\n${vs("b", "  namespace: shop\n")}` });
  assert.equal(config!.virtualServices.map((v) => v.metadata.namespace), ["default", "shop"]);
});

test("reads every apiVersion: v1alpha3, v1beta1, v1", async () => {
  const text = ["v1alpha3", "v1beta1", "v1"].map((v, i) => vs(`r${i}`).replace("networking.istio.io/v1", `networking.istio.io/${v}`)).join("---\n");
  const { config, errors } = await load({ "a.yaml": text });
  assert.equal(errors, []);
  assert.equal(config!.virtualServices.map((v) => v.apiVersion.split("/")[1]), ["v1alpha3", "v1beta1", "v1"]);
});

test("empty documents are skipped but still counted for positions", async () => {
  const { config } = await load({ "a.yaml": `---\n# nothing\n---\n${vs("a")}---\n` });
  assert.equal(config!.virtualServices[0].origin, { file: "a.yaml", document: 1 });
});

test("a folder contributes its *.yaml, *.yml and *.json files in name order, not sub-folders", async () => {
  const files = {
    "cfg/b.yml": vs("b"),
    "cfg/a.yaml": vs("a"),
    "cfg/c.json": JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "c" }, spec: { host: "c" } }),
    "cfg/notes.txt": "not yaml: [",
    "cfg/.a.yaml.swp": "garbage: [",
    "cfg/sub/d.yaml": vs("d"),
  };
  const flat = await load(files, ["cfg"]);
  assert.equal(flat.errors, []);
  assert.equal(flat.config!.virtualServices.map((v) => v.origin.file), ["cfg/a.yaml", "cfg/b.yml"]);
  assert.equal(flat.config!.destinationRules.map((v) => v.origin.file), ["cfg/c.json"]);
  const deep = await load(files, ["cfg"], { recursive: true });
  assert.equal(deep.config!.virtualServices.map((v) => v.origin.file), ["cfg/a.yaml", "cfg/b.yml", "cfg/sub/d.yaml"]);
});

test("a file named twice is read once; an empty folder is a notice", async () => {
  const result = await load({ "cfg/a.yaml": vs("a"), "empty/x.txt": "" }, ["cfg", "cfg/a.yaml", "empty"]);
  assert.equal(result.errors, []);
  assert.is(result.config!.virtualServices.length, 1);
  assert.equal(result.notices.map((n) => [n.code, n.severity, n.file]), [["io", "info", "empty"]]);
});

test("a path that cannot be read is an io error", async () => {
  const result = await load({}, ["missing.yaml"]);
  assert.is(result.config, undefined);
  assert.equal(result.errors.map((e) => [e.code, e.file]), [["io", "missing.yaml"]]);
});

test("kubectl's List wrapper is unpacked, with item paths in errors", async () => {
  const list = { apiVersion: "v1", kind: "List", items: [{ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "x" }, spec: { host: "x" } }, { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "y" }, spec: {} }] };
  const result = await load({ "l.json": JSON.stringify(list) });
  assert.equal(result.errors.map((e) => [e.name, e.path]), [["y", "items[1].spec.host"]]);
});

test("Istio kinds dietmesh does not build are refused with file, resource and kind; Telemetry is kept in `other`", async () => {
  const wp = (name: string) => `apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata:\n  name: ${name}\nspec:\n  url: oci://x\n`;
  const ef = "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: ef\n  namespace: istio-system\nspec: {}\n";
  const { config, errors } = await load({ "s.yaml": `${wp("a")}---\n${ef}` });
  assert.is(config, undefined);
  assert.equal(errors.map((e) => [e.code, e.file, e.document, e.kind, e.namespace, e.name, e.path, e.line]), [
    ["unbuilt-kind", "s.yaml", 0, "WasmPlugin", "default", "a", "kind", 2],
    ["unbuilt-kind", "s.yaml", 1, "EnvoyFilter", "istio-system", "ef", "kind", 9],
  ]);
  assert.match(errors[1].message, /networking\.istio\.io EnvoyFilter is an Istio kind dietmesh does not build/);
  const kept = await load({ "t.yaml": "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: t\nspec:\n  accessLogging:\n  - providers:\n    - name: envoy\n" });
  assert.equal(kept.errors, []);
  assert.equal(kept.config!.other.map((o) => `${o.kind}/${o.metadata.name}`), ["Telemetry/t"]);
  assert.equal(kept.notices.map((n) => [n.code, n.severity, n.kind]), [["unvalidated-kind", "info", "Telemetry"]]);
});

test("a Kubernetes Gateway API Gateway is skipped, not read as an Istio Gateway", async () => {
  const { config, notices } = await load({ "g.yaml": "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  gatewayClassName: istio\n" });
  assert.is(config!.gateways.length, 0);
  assert.equal(notices.map((n) => [n.code, n.kind]), [["skipped-kind", "Gateway"]]);
});

test("retries.backoff is kept for the retry policy; retryIgnorePreviousHosts false is refused with its field path", async () => {
  const text = vs("a").replace("  - route:", "  - retries:\n      attempts: 2\n      backoff: 1s\n      retryIgnorePreviousHosts: true\n    route:");
  const { config, notices, errors } = await load({ "a.yaml": text });
  assert.equal(errors, []);
  assert.equal(config!.virtualServices[0].spec.http[0].retries, { attempts: 2, backoff: 1000, retryIgnorePreviousHosts: true });
  assert.equal(notices, []);
  const refused = await load({ "a.yaml": text.replace("retryIgnorePreviousHosts: true", "retryIgnorePreviousHosts: false") });
  assert.is(refused.config, undefined);
  assert.equal(refused.errors.map((e) => [e.file, e.kind, e.name, e.path]), [["a.yaml", "VirtualService", "a", "spec.http[0].retries.retryIgnorePreviousHosts"]]);
  assert.match(refused.errors[0].message, /retryIgnorePreviousHosts: false is not supported/);
});

test("empty YAML values are absent, as Kubernetes prunes nulls", async () => {
  const { config, errors } = await load({ "a.yaml": vs("a").replace("  http:", "  gateways:\n  http:").replace("        host: a", "        host: a\n      weight:") });
  assert.equal(errors, []);
  assert.is(config!.virtualServices[0].spec.gateways, undefined);
  assert.is(config!.virtualServices[0].spec.http[0].route![0].weight, undefined);
});

test("deprecated forms are read into today's fields", async () => {
  const text = vs("a").replace("  - route:", "  - mirror:\n      host: m\n    mirrorPercent: 5\n    route:");
  const { config, errors } = await load({ "a.yaml": text });
  assert.equal(errors, []);
  const r = config!.virtualServices[0].spec.http[0];
  assert.equal(r.mirrorPercentage, { value: 5 });
  assert.not.ok("mirrorPercent" in r);
});

test("corsPolicy loads (issue 15 item 10); the deprecated allowOrigin becomes exact allowOrigins", async () => {
  const text = vs("a").replace("  - route:", "  - corsPolicy:\n      allowOrigin: [\"https://x\"]\n      maxAge: 1m\n      unmatchedPreflights: IGNORE\n    route:");
  const { config, errors } = await load({ "a.yaml": text });
  assert.equal(errors, []);
  assert.equal(config!.virtualServices[0].spec.http[0].corsPolicy, { allowOrigins: [{ exact: "https://x" }], maxAge: 60_000, unmatchedPreflights: "IGNORE" });
  const bad = await load({ "a.yaml": text.replace("IGNORE", "DROP") });
  assert.equal(bad.errors.map((e) => e.path), ["spec.http[0].corsPolicy.unmatchedPreflights"]);
});

test("the result's objects are deeply frozen; its arrays are readonly by type only (assemble.ts deepFreeze says why)", async () => {
  const result = await load({ "a.yaml": vs("a", "  labels:\n    app: a\n") });
  const v = result.config!.virtualServices[0];
  for (const o of [result, result.config, v, v.metadata, v.metadata.labels, v.spec.http[0].route![0].destination]) {
    assert.ok(Object.isFrozen(o));
  }
  assert.not.ok(Object.isFrozen(v.spec.hosts), "a frozen array costs JSC a sparse map");
  assert.throws(() => { (v.metadata.labels as Record<string, string>).app = "b"; });
});

test.run();
