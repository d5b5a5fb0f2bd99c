// The Kubernetes registry watching endpoints per service in use (adapters/kubernetes/
// endpoint-watches.ts): above endpointsOnDemandAbove Services no EndpointSlice or Pod is listed
// cluster-wide; use() starts a service's watches by label selector and resolves once a snapshot
// holds its endpoints; idle services' watches stop. The conformance suite runs in this mode too,
// through a consumer that uses every service it sees.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kubernetesRegistry } from "../../adapters/kubernetes/index.ts";
import type { KubeOptions } from "../../adapters/kubernetes/options.ts";
import type { Registry } from "../../runtime/model/registry.ts";
import type { RegistrySnapshot } from "../../runtime/model/types.ts";
import { kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { eventually } from "../support/mesh.ts";
import { kubeFixture } from "./kubernetes-fixture.ts";
import { registryConformance } from "./registry-conformance.ts";

/** a consumer that uses every service of every snapshot, as a proxy calling all of them would */
function usingEverything(registry: Registry): Registry {
  return {
    name: registry.name,
    start: (onUpdate) => registry.start((s) => {
      for (const service of s.services.values()) void service.use?.();
      onUpdate(s);
    }),
    stop: () => registry.stop(),
    synced: () => registry.synced(),
  };
}

const conformance = registryConformance("kubernetes, endpoints per service in use", async () => {
  const fx = await kubeFixture({ endpointsOnDemandAbove: 0 });
  return { ...fx, registry: usingEverything(fx.registry) };
});
conformance.run();

const test = suite("kubernetes endpoints per service in use");
const started: { registry?: Registry; api?: KubeApi } = {};

test.after.each(async () => {
  started.registry?.stop();
  await started.api?.stop();
});

async function cluster(services: number) {
  const api = (started.api = startKubeApi({ bookmarkIntervalMs: 1000 }));
  const k = kubeClient(api.store);
  await k.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa-1" } });
  for (let i = 0; i < services; i++) {
    const name = `svc-${i}`;
    await k.create({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector: { app: name }, ports: [{ name: "http", port: 80 }] } });
    await k.create({ apiVersion: "v1", kind: "Pod", metadata: { name: `${name}-a`, namespace: "default", labels: { app: name, version: "v1" } }, spec: { serviceAccountName: "sa-1", containers: [{ name: "app", image: "app:1" }] } });
    await k.apply(slice(name, ["10.1.0." + (i + 1)]));
  }
  return { api, k };
}

const slice = (name: string, addresses: string[]) => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: { name: `${name}-x`, namespace: "default", labels: { "kubernetes.io/service-name": name } },
  addressType: "IPv4", ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  endpoints: addresses.map((a, i) => ({ addresses: [a], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: "default", name: i === 0 ? `${name}-a` : `${name}-${i}` } })),
});

function run(api: KubeApi, options: Partial<KubeOptions> = {}) {
  const logs: string[] = [];
  const updates: RegistrySnapshot[] = [];
  const registry = (started.registry = kubernetesRegistry({
    server: api.address, origin: "test", backoff: { baseMs: 50, maxMs: 200 }, watchBackoff: { baseMs: 50, maxMs: 200 },
    log: (m) => logs.push(m), endpointsOnDemandAbove: 2, ...options,
  }));
  registry.start((s) => updates.push(s));
  const until = (what: string, check: (s: RegistrySnapshot) => boolean, ms = 5000) =>
    eventually(async () => { const s = updates.at(-1); return s && check(s) ? s : undefined; }, ms, what);
  return { logs, updates, until };
}

const host = (i: number) => `svc-${i}.default.svc.cluster.local`;
const collection = (api: KubeApi, what: string) => api.requests.filter((r) => r.path.endsWith(`/${what}`));

test("above the threshold: Services only, until a service is used; then its slices and Pods by selector", async () => {
  const { api } = await cluster(3);
  const r = run(api);
  const first = await r.until("synced", (s) => s.services.size === 3);
  for (let i = 0; i < 3; i++) assert.equal(first.services.get(host(i))!.endpoints, [], `svc-${i} has no endpoints before use`);
  assert.equal(collection(api, "endpointslices"), [], "no EndpointSlice list or watch");
  assert.equal(collection(api, "pods"), [], "no Pod list or watch");

  const waiting = first.services.get(host(1))!.use!();
  assert.ok(waiting, "the first use waits for the first lists");
  await waiting;
  const s = r.updates.at(-1)!;
  const [ep] = s.services.get(host(1))!.endpoints;
  assert.is(ep.address, "10.1.0.2", "the snapshot out when use() settles holds the endpoints");
  assert.is(ep.labels.version, "v1", "labels from the Pod");
  assert.is(ep.identity, "spiffe://cluster.local/ns/default/sa/sa-1");
  assert.equal(s.services.get(host(0))!.endpoints, [], "services not used stay without endpoints");
  assert.is(s.services.get(host(1))!.use!(), undefined, "listed: no wait");

  const selectors = [...collection(api, "endpointslices"), ...collection(api, "pods")].map((q) => `${q.path.split("/").at(-1)} ${q.query.labelSelector}`);
  assert.ok(selectors.length >= 2);
  assert.ok(selectors.every((q) => q === "endpointslices kubernetes.io/service-name=svc-1" || q === "pods app=svc-1"), selectors.join("; "));
  assert.ok(collection(api, "endpointslices").every((q) => q.path === "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"));
});

test("a used service's slice changes are followed", async () => {
  const { api, k } = await cluster(3);
  const r = run(api);
  const first = await r.until("synced", (s) => s.services.size === 3);
  await first.services.get(host(2))!.use!();
  await k.apply(slice("svc-2", ["10.1.0.3", "10.9.9.9"]));
  await r.until("the new endpoint", (s) => s.services.get(host(2))!.endpoints.map((e) => e.address).join() === "10.1.0.3,10.9.9.9");
});

test("at or below the threshold: every slice and Pod cluster-wide, as before", async () => {
  const { api } = await cluster(2);
  const r = run(api);
  const s = await r.until("synced with endpoints", (s) => s.services.get(host(0))?.endpoints.length === 1);
  assert.is(s.services.get(host(0))!.use, undefined);
  assert.ok(collection(api, "endpointslices").some((q) => q.path === "/apis/discovery.k8s.io/v1/endpointslices" && !q.query.labelSelector));
});

test("identities in the mesh's trust domain (the proxy's CA's), both when every slice is watched and on demand", async () => {
  const all = await cluster(2);
  const wide = await run(all.api, { trustDomain: "example.org" }).until("synced with endpoints", (s) => s.services.get(host(0))?.endpoints.length === 1);
  assert.is(wide.services.get(host(0))!.endpoints[0].identity, "spiffe://example.org/ns/default/sa/sa-1");
  started.registry?.stop();
  await all.api.stop();
  const some = await cluster(3);
  const r = run(some.api, { trustDomain: "example.org" });
  const first = await r.until("synced", (s) => s.services.size === 3);
  await first.services.get(host(1))!.use!();
  assert.is(r.updates.at(-1)!.services.get(host(1))!.endpoints[0].identity, "spiffe://example.org/ns/default/sa/sa-1");
});

test("more services in use than the threshold at once (a gateway builds every cluster): every slice and Pod is watched instead", async () => {
  const { api } = await cluster(3);
  const r = run(api);
  const first = await r.until("synced", (s) => s.services.size === 3);
  await Promise.all([0, 1, 2].map((i) => first.services.get(host(i))!.use!()));
  const s = r.updates.at(-1)!;
  for (let i = 0; i < 3; i++) assert.is(s.services.get(host(i))!.endpoints.length, 1, `svc-${i}'s endpoints in the snapshot out when use() settles`);
  assert.ok(collection(api, "endpointslices").some((q) => q.path === "/apis/discovery.k8s.io/v1/endpointslices" && !q.query.labelSelector), "the cluster-wide list");
  assert.equal(collection(api, "endpointslices").filter((q) => q.query.labelSelector), [], "no per-service list was started");
  assert.ok(r.logs.some((l) => l.includes("more than 2 services in use")), r.logs.join("\n"));
});

test("an idle service's watches stop and its endpoints leave; a later use watches again", async () => {
  const { api } = await cluster(3);
  const r = run(api, { endpointIdleMs: 300 });
  const first = await r.until("synced", (s) => s.services.size === 3);
  await first.services.get(host(0))!.use!();
  assert.is(r.updates.at(-1)!.services.get(host(0))!.endpoints.length, 1);
  const s = await r.until("endpoints dropped when idle", (s) => s.services.get(host(0))!.endpoints.length === 0);
  const again = s.services.get(host(0))!.use!();
  assert.ok(again, "a new first list");
  await again;
  assert.is(r.updates.at(-1)!.services.get(host(0))!.endpoints.length, 1);
});

test.run();
