// The Kubernetes registry against the test API server, beyond the conformance suite: how
// Services, EndpointSlices and Pods map to the model, Istio config as snapshot resources,
// paginated lists, namespace scope, 410 and "too large resource version" answered by listing
// again, and bearer tokens (read again from their file on every request).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kubernetesRegistry } from "../../adapters/kubernetes/index.ts";
import type { KubeOptions } from "../../adapters/kubernetes/options.ts";
import type { Registry } from "../../runtime/model/registry.ts";
import type { RegistrySnapshot } from "../../runtime/model/types.ts";
import { platform } from "../../runtime/platform/index.ts";
import { createKubeStore, kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { eventually } from "../support/mesh.ts";

const test = suite("kubernetes registry");
const started: { registry?: Registry; apis: KubeApi[] } = { apis: [] };

function run(api: KubeApi, options: Partial<KubeOptions> = {}) {
  const logs: string[] = [];
  const updates: RegistrySnapshot[] = [];
  const registry = kubernetesRegistry({
    server: api.address, origin: "test", backoff: { baseMs: 50, maxMs: 200 }, watchBackoff: { baseMs: 50, maxMs: 200 },
    log: (m) => logs.push(m), ...options,
  });
  started.registry = registry;
  registry.start((s) => updates.push(s));
  const until = (what: string, check: (s: RegistrySnapshot) => boolean, ms = 5000) =>
    eventually(async () => { const s = updates.at(-1); return s && check(s) ? s : undefined; }, ms, what);
  return { logs, updates, until, registry };
}

function serve(options: Parameters<typeof startKubeApi>[0] = {}): KubeApi {
  const api = startKubeApi(options);
  started.apis.push(api);
  return api;
}

test.after.each(async () => {
  started.registry?.stop();
  started.registry = undefined;
  await Promise.all(started.apis.splice(0).map((a) => a.stop()));
});

const HOST = "reviews.default.svc.cluster.local";
const service = (name: string, namespace = "default", ports: unknown[] = [{ name: "http", port: 9080 }]) =>
  ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec: { selector: { app: name }, ports } });

test("Services, EndpointSlices and Pods: ports per slice, readiness, labels and identity from the Pod", async () => {
  const api = serve();
  const k = kubeClient(api.store);
  await k.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bookinfo-reviews" } });
  await k.create(service("reviews", "default", [
    { name: "http-web", port: 9080, targetPort: 8080 },
    { name: "rpc", port: 9090, appProtocol: "grpc", targetPort: "rpc" },
    { name: "dns", port: 53, protocol: "UDP" },
  ]));
  for (const [name, version] of [["reviews-v1", "v1"], ["reviews-v2", "v2"], ["reviews-v3", "v3"]]) {
    await k.create({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "reviews", version } }, spec: { serviceAccountName: "bookinfo-reviews", containers: [{ name: "app", image: "reviews:1" }] } });
  }
  const slice = (name: string, ports: unknown[], endpoints: unknown[]) =>
    k.create({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, labels: { "kubernetes.io/service-name": "reviews" } }, addressType: "IPv4", ports, endpoints });
  const pod = (name: string) => ({ kind: "Pod", namespace: "default", name });
  await slice("reviews-a", [{ name: "http-web", port: 8080 }, { name: "rpc", port: 7070 }], [
    { addresses: ["10.1.0.1"], conditions: { ready: true }, targetRef: pod("reviews-v1") },
    { addresses: ["10.1.0.2"], conditions: { ready: false, serving: true, terminating: true }, targetRef: pod("reviews-v2") },
  ]);
  await slice("reviews-b", [{ name: "http-web", port: 8081 }], [
    { addresses: ["10.1.0.3", "10.1.0.33"], targetRef: pod("reviews-v3") }, // no conditions: ready; only the first address counts
    { addresses: ["10.1.0.4"], conditions: { ready: true } }, // no Pod: no labels, no identity
  ]);
  await k.create({ apiVersion: "v1", kind: "Service", metadata: { name: "external" }, spec: { type: "ExternalName", externalName: "api.example.com", ports: [{ name: "https", port: 443 }] } });
  const w = run(api);
  const s = await w.until("reviews with three endpoints", (s) => s.services.get(HOST)?.endpoints.length === 3);
  const reviews = s.services.get(HOST)!;
  assert.equal(reviews.ports, [
    { name: "http-web", number: 9080, protocol: "HTTP", targetPort: 8080 },
    { name: "rpc", number: 9090, protocol: "GRPC" },
  ], "UDP left out; appProtocol and the name prefix give the protocol");
  assert.is(reviews.location, "MESH_INTERNAL");
  assert.is(reviews.source, "kubernetes");
  const [v1, v3, bare] = reviews.endpoints;
  assert.equal([v1.address, v3.address, bare.address], ["10.1.0.1", "10.1.0.3", "10.1.0.4"], "the unready endpoint left out");
  assert.equal(v1.ports, { "http-web": 8080, rpc: 7070 });
  assert.equal(v3.ports, { "http-web": 8081 });
  assert.equal(v1.labels, { app: "reviews", version: "v1" });
  assert.is(v1.identity, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
  assert.equal(bare.labels, {});
  assert.is(bare.identity, undefined);
  const external = s.services.get("external.default.svc.cluster.local")!;
  assert.is(external.resolution, "DNS");
  assert.is(external.location, "MESH_EXTERNAL");
  assert.equal(external.endpoints.map((e) => e.address), ["api.example.com"]);
  assert.equal(external.ports.map((p) => p.protocol), ["HTTPS"]);

  // the Pod's labels change (after a status change, which the model does not use): the endpoint's follow
  await k.mergePatch("v1", "Pod", "default", "reviews-v1", { status: { phase: "Running", podIP: "10.1.0.1" } }, "status");
  await k.mergePatch("v1", "Pod", "default", "reviews-v1", { metadata: { labels: { version: "v1b" } } });
  await w.until("relabelled", (s) => s.services.get(HOST)!.endpoints[0].labels.version === "v1b");
  await k.mergePatch("v1", "Service", "default", "external", { spec: { ports: [{ name: "https", port: 443 }, { name: "http", port: 80 }] } });
  await w.until("a port added", (s) => s.services.get("external.default.svc.cluster.local")!.ports.length === 2);
});

test("Istio config: each kind in its preferred version as snapshot resources; the array is kept while only endpoints change", async () => {
  const api = serve();
  const k = kubeClient(api.store);
  await k.create(service("reviews"));
  await k.create({ apiVersion: "networking.istio.io/v1alpha3", kind: "VirtualService", metadata: { name: "reviews", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", note: "kept" } }, spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }] }] } });
  await k.create({ apiVersion: "security.istio.io/v1beta1", kind: "AuthorizationPolicy", metadata: { name: "deny", namespace: "default" }, spec: {} });
  const w = run(api);
  const first = await w.until("resources", (s) => (s.resources?.length ?? 0) === 2);
  assert.equal(first.resources!.map((r) => r.ref), [
    "kubernetes:/apis/networking.istio.io/v1/namespaces/default/virtualservices/reviews",
    "kubernetes:/apis/security.istio.io/v1/namespaces/default/authorizationpolicies/deny",
  ]);
  const vs = first.resources![0].object as { apiVersion: string; kind: string; metadata: { annotations: Record<string, string> }; spec: unknown };
  assert.is(vs.apiVersion, "networking.istio.io/v1");
  assert.is(vs.kind, "VirtualService");
  assert.equal(vs.metadata.annotations, { note: "kept" }, "kubectl's last-applied copy is dropped");
  assert.ok(Object.isFrozen(first.resources));

  await k.create({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name: "reviews-1", labels: { "kubernetes.io/service-name": "reviews" } }, addressType: "IPv4", ports: [{ name: "http", port: 9080 }], endpoints: [{ addresses: ["10.0.0.1"] }] });
  const second = await w.until("an endpoint", (s) => s.services.get(HOST)!.endpoints.length === 1);
  assert.is(second.resources, first.resources, "same array: the config watcher skips reloading the config");
  await k.mergePatch("networking.istio.io/v1", "VirtualService", "default", "reviews", { spec: { hosts: ["reviews", "reviews.example.com"] } });
  const third = await w.until("the VirtualService changed", (s) => s.resources !== first.resources);
  assert.equal((third.resources![0].object as { spec: { hosts: string[] } }).spec.hosts, ["reviews", "reviews.example.com"]);
  await k.delete("security.istio.io/v1", "AuthorizationPolicy", "default", "deny");
  await w.until("the policy gone", (s) => s.resources!.length === 1);
});

test("lists come in pages of limit with continue tokens", async () => {
  const api = serve();
  const k = kubeClient(api.store);
  for (let i = 1; i <= 5; i++) await k.create(service(`svc-${i}`));
  const w = run(api, { pageSize: 2 });
  await w.until("five services", (s) => s.services.size === 5);
  const pages = api.requests.filter((r) => r.path === "/api/v1/services" && r.query.watch !== "true");
  assert.is(pages.length, 3);
  assert.ok(pages.every((p) => p.query.limit === "2"));
  assert.equal(pages.map((p) => Boolean(p.query.continue)), [false, true, true]);
  const watches = api.requests.filter((r) => r.path === "/api/v1/services" && r.query.watch === "true");
  assert.ok(watches.length >= 1);
  assert.is(watches[0].query.allowWatchBookmarks, "true");
  assert.ok(Number(watches[0].query.resourceVersion) > 0, "the watch starts at the list's resourceVersion");
});

test("a namespace scope lists and watches that namespace only", async () => {
  const api = serve();
  const k = kubeClient(api.store);
  await k.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
  await k.create(service("mine", "team"));
  await k.create(service("theirs", "default"));
  const w = run(api, { namespace: "team" });
  const s = await w.until("synced", (s) => s.services.size > 0);
  assert.equal([...s.services.keys()], ["mine.team.svc.cluster.local"]);
  const paths = new Set(api.requests.map((r) => r.path).filter((p) => !p.startsWith("/apis/networking") || p.includes("/namespaces/")));
  assert.ok(paths.has("/api/v1/namespaces/team/services"));
  assert.ok(paths.has("/apis/discovery.k8s.io/v1/namespaces/team/endpointslices"));
  assert.ok(![...paths].some((p) => p === "/api/v1/services"), "never the cluster-wide collection");
});

test("a watch resumed from a compacted resourceVersion gets 410 and lists again; the last state is kept meanwhile", async () => {
  const store = createKubeStore();
  let api = serve({ store });
  const k = kubeClient(store);
  await k.create(service("reviews"));
  const w = run(api);
  await w.until("synced", (s) => s.services.has(HOST));
  await api.stop();
  await k.create(service("late"));
  store.compact(); // the history the watches would resume from is gone
  await eventually(async () => w.logs.some((l) => l.includes("retrying from resourceVersion")), 5000, "the broken watch noticed");
  const kept = w.updates.length;
  api = serve({ store, port: api.port });
  await w.until("late seen after a fresh list", (s) => s.services.has("late.default.svc.cluster.local"));
  assert.ok(w.logs.some((l) => /gone from the API server's history .*410/.test(l)), w.logs.join("\n"));
  assert.ok(w.updates.slice(kept).every((s) => s.services.has(HOST)), "never an empty picture in between");
});

test("a restarted server whose history starts below the old resourceVersion: 'too large resource version', then a fresh list", async () => {
  const old = serve();
  const k = kubeClient(old.store);
  for (let i = 0; i < 10; i++) await k.create(service(`pad-${i}`));
  const w = run(old);
  await w.until("synced", (s) => s.services.size === 10);
  await old.stop();
  const store = createKubeStore(); // revision 1 again: an etcd restored from an old backup
  await kubeClient(store).create(service("fresh"));
  serve({ store, port: old.port });
  const s = await w.until("the new server's state", (s) => s.services.has("fresh.default.svc.cluster.local"), 10_000);
  assert.is(s.services.size, 1);
  assert.ok(w.logs.some((l) => /Too large resource version/.test(l)), w.logs.join("\n"));
});

test("bearer tokens: sent on every request; a wrong one never syncs; a token file is read again (rotation)", async () => {
  const api = serve({ token: "s3cret" });
  await kubeClient(api.store).create(service("reviews"));
  const good = run(api, { token: "s3cret" });
  await good.until("synced with the token", (s) => s.services.has(HOST));
  good.registry.stop();

  const bad = run(api, { token: "wrong" });
  await eventually(async () => bad.logs.some((l) => l.includes("401")), 5000, "401 logged");
  assert.is(bad.registry.synced(), false);
  bad.registry.stop();

  const dir = await platform.makeTempDir("dietmesh-kube-token-");
  await platform.writeTextFile(`${dir}/token`, "s3cret\n");
  const rotating = run(api, { tokenFile: `${dir}/token`, readTextFile: platform.readTextFile });
  await rotating.until("synced with the file's token", (s) => s.services.has(HOST));
  await api.stop();
  const rotated = serve({ store: api.store, port: api.port, token: "n3w" });
  await platform.writeTextFile(`${dir}/token`, "n3w\n");
  await kubeClient(rotated.store).create(service("after"));
  await rotating.until("resumed with the rotated token", (s) => s.services.has("after.default.svc.cluster.local"));
  await platform.remove(dir);
});

test.run();
