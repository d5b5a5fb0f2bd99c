// End to end: a real gateway with --registry kubernetes --kubeconfig FILE against the test API
// server, fed with the real kubectl — the hello-istio demo's Service and Istio YAML, plus the Pods
// and EndpointSlices a cluster would create for two versions — routes as the static demo does;
// kubectl replace of the VirtualService, and endpoints added, removed or made unready, take
// effect (no timing is asserted: a deadline only bounds the wait); with the API server gone the last state keeps serving; a restarted
// server with a fresh history (the old resourceVersion answers 410) is listed again and followed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, metricValue, startGateway, startSidecar, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";
import { kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { ensureKubectl, kubectlFor, type Kubectl } from "../support/kube-api-kubectl.ts";

const demo = new URL("../../demo/hello-istio/istio/", import.meta.url).pathname;
const versions = ["1.0.1", "2.0.1", "2.0.2"];
const apps = versions.map((version) =>
  platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response(JSON.stringify({ message: "Hello Istio.", version })) }),
);
let api: KubeApi;
let kubectl: Kubectl;
let gateway: Gateway;

/** a Pod and the EndpointSlice the EndpointSlice controller would write for it */
function workload(name: string, version: string, port: number, ready = true): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: hello-istio, version: ${version} } }
spec:
  serviceAccountName: default
  containers: [{ name: hello-istio, image: "lreimer/hello-istio:1.0.1", ports: [{ containerPort: 8080 }] }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  labels: { kubernetes.io/service-name: hello-istio, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io }
addressType: IPv4
ports: [{ name: http, port: ${port}, protocol: TCP }]
endpoints:
- addresses: [127.0.0.1]
  conditions: { ready: ${ready}, serving: ${ready}, terminating: false }
  targetRef: { kind: Pod, namespace: default, name: ${name} }
`;
}

const hello = async () => {
  const r = await curl(["-H", "Host: hello-istio.cloud", `http://${gateway.port80}/api/hello`]);
  return r.status === 200 ? (JSON.parse(r.body).version as string) : `${r.status} ${r.headers["x-dietmesh-response-flags"] ?? ""}`;
};

/** the ports of the endpoints the gateway's cluster for a subset holds (admin /clusters) */
async function subsetPorts(subset: string): Promise<string> {
  const r = await curl([`http://${gateway.admin}/clusters`]);
  const cluster = (JSON.parse(r.body) as { subset: string | null; service: string; endpoints: { address: string }[] }[])
    .find((c) => c.subset === subset && c.service === "hello-istio.default.svc.cluster.local");
  return (cluster?.endpoints ?? []).map((e) => e.address.split(":").pop()).sort().join(",");
}

/** the gateway's dietmesh_registry_* gauges for the kubernetes registry (admin /stats/prometheus) */
async function registrySync(): Promise<{ synced?: number; last?: number }> {
  const labels = { registry: "kubernetes" };
  return { synced: await metricValue(gateway.admin, "dietmesh_registry_synced", labels), last: await metricValue(gateway.admin, "dietmesh_registry_last_sync_timestamp_seconds", labels) };
}

/** waits until check holds (a 5 s deadline bounds the wait; how long it took is not asserted) */
async function within(since: number, what: string, check: () => Promise<boolean>): Promise<number> {
  await eventually(async () => (await check()) || undefined, 5000, what);
  return Date.now() - since;
}

async function createCluster(vs: string): Promise<void> {
  // the demo's file also holds extensions/v1beta1 Deployments, which no current API server serves:
  // kubectl creates the Service and reports the rest, as it would against a real cluster
  const demoService = await kubectl("create", "-f", `${demo}hello-istio.yaml`);
  assert.is(demoService.code, 1, demoService.out);
  assert.match(demoService.out, /service\/hello-istio created/);
  assert.match(demoService.out, /no matches for kind "Deployment" in version "extensions\/v1beta1"/);
  const pods = await kubectl.file("workloads.yaml", [workload("hello-istio-v1-7d9f8", "v1", apps[0].port), workload("hello-istio-v2-5c4b2", "v2", apps[1].port)].join("---\n"));
  await kubectl.ok("create", "-f", pods);
  await kubectl.ok("create", "-f", `${demo}hello-istio-gateway.yaml`, "-f", `${demo}hello-istio-destination.yaml`, "-f", `${demo}${vs}`);
}

test.before(async () => {
  await ensureKubectl();
  api = startKubeApi();
  kubectl = await kubectlFor(api);
  await createCluster("hello-istio-v1.yaml");
  gateway = await startGateway(await tempConfig({}), ["--registry", "kubernetes", "--kubeconfig", kubectl.kubeconfig]);
});

test.after(async () => {
  stopAll();
  await api?.stop();
  await Promise.all(apps.map((a) => a.stop(true)));
  if (kubectl) await platform.remove(kubectl.dir);
});

test("the demo's Istio YAML from the API routes like the static demo: all v1", async () => {
  await eventually(async () => (await hello()) === "1.0.1", 5000, "v1");
  for (let i = 0; i < 10; i++) assert.is(await hello(), "1.0.1");
  const other = await curl(["-H", "Host: other.cloud", `http://${gateway.port80}/api/hello`]);
  assert.is(other.status, 404);
});

test("a sidecar on the same registry answers the Service's DNS names", async () => {
  const sidecar = await startSidecar(await tempConfig({}), ["--registry", "kubernetes", "--kubeconfig", kubectl.kubeconfig]);
  for (const host of ["hello-istio:8080", "hello-istio.default:8080", "hello-istio.default.svc:8080", "hello-istio.default.svc.cluster.local:8080"]) {
    const r = await curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/api/hello`]);
    assert.is(r.status, 200, host);
    assert.ok(["1.0.1", "2.0.1"].includes(JSON.parse(r.body).version), r.body);
  }
  sidecar.child.kill();
});

test("kubectl replace of the VirtualService takes effect", async () => {
  const out = await kubectl.ok("replace", "-f", `${demo}hello-istio-v2.yaml`);
  assert.match(out, /virtualservice.networking.istio.io\/hello-istio replaced/);
  await within(Date.now(), "all v2", async () => (await hello()) === "2.0.1");
  for (let i = 0; i < 5; i++) assert.is(await hello(), "2.0.1");
});

test("an endpoint made unready leaves; ready again, it returns", async () => {
  const v2 = String(apps[1].port);
  await kubectl.ok("patch", "endpointslice", "hello-istio-v2-5c4b2", "--type=json", "-p", '[{"op":"replace","path":"/endpoints/0/conditions/ready","value":false}]');
  await within(Date.now(), "v2 unready", async () => (await subsetPorts("v2")) === "");
  assert.is(await hello(), "503 UH");
  await kubectl.ok("patch", "endpointslice", "hello-istio-v2-5c4b2", "--type=json", "-p", '[{"op":"replace","path":"/endpoints/0/conditions/ready","value":true}]');
  await within(Date.now(), "v2 ready", async () => (await subsetPorts("v2")) === v2);
  assert.is(await hello(), "2.0.1");
});

test("an endpoint added in a new slice joins; its slice deleted, it leaves", async () => {
  const [v2, v2b] = [String(apps[1].port), String(apps[2].port)];
  await kubectl.ok("create", "-f", await kubectl.file("v2b.yaml", workload("hello-istio-v2-9x8z7", "v2", apps[2].port)));
  await within(Date.now(), "second v2 endpoint", async () => (await subsetPorts("v2")) === [v2, v2b].sort().join(","));
  const seen = new Set<string>();
  await eventually(async () => (seen.add(await hello()), seen.has("2.0.2")), 5000, "traffic to the new endpoint");
  await kubectl.ok("delete", "endpointslice", "hello-istio-v2-9x8z7");
  await within(Date.now(), "second v2 endpoint gone", async () => (await subsetPorts("v2")) === v2);
  for (let i = 0; i < 5; i++) assert.is(await hello(), "2.0.1");
});

test("the registry's sync gauges: synced, with the time of the last sync", async () => {
  const { synced, last } = await registrySync();
  assert.is(synced, 1);
  assert.ok(last !== undefined && last <= Date.now() / 1000 && last > Date.now() / 1000 - 600, `last sync ${last}`);
});

test("with the API server stopped, the last state keeps serving", async () => {
  await api.stop();
  for (let i = 0; i < 5; i++) assert.is(await hello(), "2.0.1");
  const ready = await curl([`http://${gateway.admin}/ready`]);
  assert.is(ready.status, 200, "still ready: the first sync happened");
});

test("a restarted API server with a fresh history: the old resourceVersion is gone (410), the gateway lists again and follows", async () => {
  const before = gateway.child.lines.length;
  const lastBefore = (await registrySync()).last!;
  // while it was down, the VirtualService went back to v1 (written to its etcd by another server)
  await kubeClient(api.store).mergePatch("networking.istio.io/v1", "VirtualService", "default", "hello-istio", {
    spec: { http: [{ route: [{ destination: { host: "hello-istio", subset: "v1" } }] }] },
  });
  api = startKubeApi({ port: api.port, store: api.store, freshHistory: true });
  await eventually(async () => (await hello()) === "1.0.1", 10_000, "v1 from the restarted server");
  const resynced = await registrySync();
  assert.is(resynced.synced, 1, "synced");
  assert.ok(resynced.last! > lastBefore, `the relist is a new sync: ${resynced.last} after ${lastBefore}`);
  const relisted = gateway.child.lines.slice(before).filter((l) => /gone from the API server's history/.test(l));
  assert.ok(relisted.length > 0, `no relist logged:\n${gateway.child.lines.slice(before).join("\n")}`);
  await kubectl.ok("replace", "-f", `${demo}hello-istio-v2.yaml`);
  await eventually(async () => (await hello()) === "2.0.1", 3000, "the watch follows the restarted server");
});

test.run();
