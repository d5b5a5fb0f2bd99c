// End to end: a real sidecar with --registry kubernetes in a cluster above 200 Services watches
// EndpointSlices and Pods only for the services it calls (issue 11 item 4). Nothing but Services
// and Istio config is listed at start; the first request to a service waits for its slices and
// Pods (listed by label selector) and is answered, not 503/404; subsets come from the Pods'
// labels; a slice change of a called service is followed; an unknown host is still 404 NR.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, startGateway, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";
import { kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";

const SERVICES = 210;
const apps = ["v1", "v2"].map((version) => platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response(version) }));
let api: KubeApi;
let kubeconfig: string;

const slice = (service: string, name: string, pod: string, port: number) => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
  addressType: "IPv4", ports: [{ name: "http", port, protocol: "TCP" }],
  endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: "default", name: pod } }],
});

test.before(async () => {
  api = startKubeApi({ bookmarkIntervalMs: 1000 });
  const k = kubeClient(api.store);
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    await k.create({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector: { app: name }, ports: [{ name: "http", port: 80 }] } });
    for (const [v, app] of [["v1", apps[0]], ["v2", apps[1]]] as const) {
      // svc-7 has a v2 instance too; the others only v1
      if (v === "v2" && i !== 7) continue;
      await k.create({ apiVersion: "v1", kind: "Pod", metadata: { name: `${name}-${v}`, namespace: "default", labels: { app: name, version: v } }, spec: { serviceAccountName: "default", containers: [{ name: "app", image: "app:1" }] } });
      await k.create(slice(name, `${name}-${v}`, `${name}-${v}`, app.port));
    }
  }
  const host = "svc-7.default.svc.cluster.local";
  await k.create({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "svc-7", namespace: "default" }, spec: { host, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] } });
  await k.create({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc-7", namespace: "default" }, spec: { hosts: [host], http: [{ route: [{ destination: { host, subset: "v2" } }] }] } });
  await k.create({ apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "edge", namespace: "default" }, spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["svc7.example"] }] } });
  await k.create({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "edge", namespace: "default" }, spec: { hosts: ["svc7.example"], gateways: ["edge"], http: [{ route: [{ destination: { host, subset: "v2" } }] }] } });
  kubeconfig = await api.kubeconfig(`${await platform.makeTempDir("dietmesh-kube-scale-")}/kubeconfig`);
});

test.after(async () => {
  await stopAll();
  await api.stop();
  for (const app of apps) await app.stop(true);
});

const endpointRequests = () => api.requests.filter((r) => r.path.endsWith("/endpointslices") || r.path.endsWith("/pods"));

test("endpoints of called services only, listed on first use; subsets by the Pods' labels; changes followed", async () => {
  const sidecar = await startSidecar(await tempConfig({}), ["--registry", "kubernetes", "--kubeconfig", kubeconfig]);
  const call = async (host: string) => {
    const r = await curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/`]);
    return `${r.status} ${r.status === 200 ? r.body : r.headers["x-dietmesh-response-flags"] ?? ""}`;
  };
  assert.equal(endpointRequests(), [], "no EndpointSlice or Pod list or watch before a service is used");

  assert.is(await call("svc-3"), "200 v1", "the first request waits for the service's endpoints");
  assert.is(await call("svc-7:80"), "200 v2", "the subset from the Pods' labels");
  const selectors = [...new Set(endpointRequests().map((r) => `${r.path} ${r.query.labelSelector}`))].sort();
  assert.equal(selectors, [
    "/api/v1/namespaces/default/pods app=svc-3",
    "/api/v1/namespaces/default/pods app=svc-7",
    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices kubernetes.io/service-name=svc-3",
    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices kubernetes.io/service-name=svc-7",
  ]);

  // the slice of a called service moves to the v2 app: followed through its watch
  await kubeClient(api.store).apply(slice("svc-3", "svc-3-v1", "svc-3-v1", apps[1].port));
  await eventually(async () => (await call("svc-3")) === "200 v2", 5000, "svc-3's new endpoint in service");

  assert.is(await call("nowhere.example"), "404 NR", "an unknown host is still 404");
  sidecar.child.kill();
});

test("a gateway, which builds a cluster per Service, falls back to watching every slice and Pod and routes", async () => {
  const seen = api.requests.length;
  const gateway = await startGateway(await tempConfig({}), ["--registry", "kubernetes", "--kubeconfig", kubeconfig]);
  await eventually(async () => {
    const r = await curl(["-H", "Host: svc7.example", `http://${gateway.port80}/`]);
    return r.status === 200 && r.body === "v2";
  }, 10_000, "the gateway routes to svc-7's v2 Pod");
  const mine = api.requests.slice(seen).filter((r) => r.path.endsWith("/endpointslices"));
  assert.ok(mine.some((r) => r.path === "/apis/discovery.k8s.io/v1/endpointslices" && !r.query.labelSelector), "one cluster-wide slice list");
  assert.ok(mine.filter((r) => r.query.labelSelector).length === 0, "not one watch per Service");
  gateway.child.kill();
});

test.run();
