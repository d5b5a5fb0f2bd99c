// Istio config from the Kubernetes API through the config watcher: it is validated like the files
// and compiled with them; a bad object keeps its last accepted version or, new, is left out,
// while the rest goes into service; the files win a name both define; a ServiceEntry in the API
// becomes a service like one in a file.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startConfigWatch, type ConfigWatch } from "../../runtime/discovery/config-watch.ts";
import { platform } from "../../runtime/platform/index.ts";
import { kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { eventually, tempConfig } from "../support/mesh.ts";

const test = suite("config from the Kubernetes API");
let api: KubeApi;
let watch: ConfigWatch | undefined;
let logs: string[];
let dir: string;

const gateway = { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "web", namespace: "default" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*.example.com"] }] } };
const rule = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "shop", namespace: "default" }, spec: { host: "shop", subsets: [{ name: "v1", labels: { version: "v1" } }] } };
const route = (name: string, host: string, destination: Record<string, unknown>) => ({
  apiVersion: "networking.istio.io/v1beta1", kind: "VirtualService", metadata: { name, namespace: "default" },
  spec: { hosts: [host], gateways: ["web"], http: [{ route: [{ destination }] }] },
});

test.before.each(async () => {
  api = startKubeApi();
  logs = [];
  const k = kubeClient(api.store);
  await k.create({ apiVersion: "v1", kind: "Service", metadata: { name: "shop" }, spec: { ports: [{ name: "http", port: 80 }] } });
  await k.create(gateway);
  await k.create(rule);
  await k.create(route("shop", "shop.example.com", { host: "shop", subset: "v1" }));
  dir = await tempConfig({});
  await api.kubeconfig(`${dir}/kubeconfig`);
});

test.after.each(async () => {
  watch?.close();
  watch = undefined;
  await api.stop();
  await platform.remove(dir);
});

async function start(files: Record<string, string> = {}): Promise<ConfigWatch> {
  const config = await tempConfig(files);
  watch = await startConfigWatch({
    paths: Object.keys(files).length ? [config] : [],
    namespace: "default",
    registries: [{ kind: "kubernetes", kubeconfig: `${dir}/kubeconfig` }],
    proxy: { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } },
    log: (m) => logs.push(m),
  });
  return watch;
}

const names = (w: ConfigWatch) => w.table.current.config.virtualServices.map((vs) => `${vs.metadata.name}:${JSON.stringify(vs.spec.http[0].route?.[0].destination)}`).sort();

test("the API's Gateway, DestinationRule and VirtualService are compiled from the first table on", async () => {
  const w = await start();
  assert.equal(names(w), ['shop:{"host":"shop","subset":"v1"}']);
  assert.equal(w.table.current.config.gateways.map((g) => g.metadata.name), ["web"]);
  assert.ok(w.table.current.gatewayPorts.has(80));
  assert.ok(w.table.current.snapshot.services.has("shop.default.svc.cluster.local"));
});

test("a change in the API is reloaded; a bad new object is left out and the rest goes on", async () => {
  const w = await start();
  const k = kubeClient(api.store);
  await k.create(route("cart", "cart.example.com", { host: "shop" }));
  await eventually(async () => names(w).length === 2, 5000, "cart in service");
  await k.create({ ...route("broken", "broken.example.com", { host: "shop" }), spec: { hosts: ["broken.example.com"], http: [{ route: [{ destination: { subset: "v1" } }] }] } });
  await k.mergePatch("networking.istio.io/v1", "VirtualService", "default", "cart", { spec: { http: [{ route: [{ destination: { host: "shop", subset: "v1" } }] }] } });
  await eventually(async () => names(w).includes('cart:{"host":"shop","subset":"v1"}'), 5000, "cart changed");
  assert.ok(!names(w).some((n) => n.startsWith("broken")));
  const rejected = logs.find((l) => l.includes("registry config rejected"));
  assert.ok(rejected, logs.join("\n"));
  assert.match(rejected!, /kubernetes:\/apis\/networking.istio.io\/v1\/namespaces\/default\/virtualservices\/broken/);
  assert.match(rejected!, /left out/);
});

test("an object changed into a bad one keeps its last accepted version", async () => {
  const w = await start();
  const k = kubeClient(api.store);
  const version = w.table.current.version;
  await k.mergePatch("networking.istio.io/v1", "VirtualService", "default", "shop", { spec: { http: [{ route: [{ destination: { host: "shop", subset: "v9" } }] }] } });
  await eventually(async () => logs.some((l) => l.includes("its last accepted version stays")), 5000, "the rejection");
  assert.match(logs.find((l) => l.includes("its last accepted version stays"))!, /subset/);
  assert.equal(names(w), ['shop:{"host":"shop","subset":"v1"}']);
  await k.create({ apiVersion: "v1", kind: "Service", metadata: { name: "other" }, spec: { ports: [{ name: "http", port: 80 }] } });
  await eventually(async () => w.table.current.snapshot.services.has("other.default.svc.cluster.local"), 5000, "discovery goes on");
  assert.ok(w.table.current.version > version);
  await k.mergePatch("networking.istio.io/v1", "VirtualService", "default", "shop", { spec: { http: [{ route: [{ destination: { host: "shop" } }] }] } });
  await eventually(async () => names(w)[0] === 'shop:{"host":"shop"}', 5000, "fixed");
});

test("a name defined in a file and in the API: the file wins; an API ServiceEntry is a service", async () => {
  const k = kubeClient(api.store);
  await k.create({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "payments", namespace: "default" }, spec: { hosts: ["payments.internal"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 80, name: "http" }], endpoints: [{ address: "10.9.9.9" }] } });
  const w = await start({
    "shop.yaml": `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop, namespace: default }
spec:
  hosts: [shop.example.com]
  gateways: [web]
  http: [{ route: [{ destination: { host: shop } }] }]
`,
  });
  assert.equal(names(w), ['shop:{"host":"shop"}'], "the file's");
  assert.match(logs.find((l) => l.includes("registry config rejected")) ?? "", /defined twice/);
  assert.equal(w.table.current.snapshot.services.get("payments.internal")?.endpoints.map((e) => e.address), ["10.9.9.9"]);
});

test.run();
