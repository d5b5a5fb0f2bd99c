// End to end: a real gateway with --registry consul against the test Consul agent — v1 and v2
// instances registered with Meta version and TTL checks drive subset routing; a failing check
// removes its instance within a second; with the agent gone the last state keeps serving.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, metricValue, startEcho, startGateway, startSidecar, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { startConsulAgent, type ConsulAgent } from "../support/consul-agent.ts";

const apps = ["1.0.1", "2.0.1"].map((version) =>
  platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response(JSON.stringify({ version })) }),
);
let agent: ConsulAgent;
let gateway: Gateway;

const mesh = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: hello-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [hello.consul.example] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: hello }
spec:
  host: hello.service.consul
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hello }
spec:
  hosts: [hello.consul.example]
  gateways: [hello-gateway]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: hello.service.consul, subset: v2 } }]
  - route: [{ destination: { host: hello.service.consul, subset: v1 } }]
`;

const put = (path: string, body?: string) => curl(["-X", "PUT", ...(body === undefined ? [] : ["--data-binary", body]), `${agent.address}${path}`]);
const hello = async (extra: string[] = []) => {
  const r = await curl(["-H", "Host: hello.consul.example", ...extra, `http://${gateway.port80}/`]);
  return r.status === 200 ? (JSON.parse(r.body).version as string) : `${r.status} ${r.headers["x-dietmesh-response-flags"] ?? ""}`;
};

test.before(async () => {
  agent = startConsulAgent();
  for (const [i, version] of ["v1", "v2"].entries()) {
    const reg = { Name: "hello", ID: `hello-${version}`, Address: "127.0.0.1", Port: apps[i].port, Meta: { version }, Check: { TTL: "30s" } };
    assert.is((await put("/v1/agent/service/register", JSON.stringify(reg))).status, 200);
    assert.is((await put(`/v1/agent/check/pass/service:hello-${version}`)).status, 200);
  }
  gateway = await startGateway(await tempConfig({ "mesh.yaml": mesh }), ["--registry", `consul=${agent.address}`]);
});

test.after(async () => {
  stopAll();
  await agent?.stop();
  await Promise.all(apps.map((a) => a.stop(true)));
});

test("Meta version labels drive subset routing", async () => {
  await eventually(async () => (await hello()) === "1.0.1", 5000, "v1 by default");
  assert.is(await hello(["-H", "x-canary: yes"]), "2.0.1");
});

test("a failing TTL check removes its instance within a second", async () => {
  assert.is((await put("/v1/agent/check/fail/service:hello-v2")).status, 200);
  const started = Date.now();
  await eventually(async () => (await hello(["-H", "x-canary: yes"])) === "503 UH", 3000, "v2 gone");
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  assert.is(await hello(), "1.0.1");
  assert.is((await put("/v1/agent/check/pass/service:hello-v2")).status, 200);
  await eventually(async () => (await hello(["-H", "x-canary: yes"])) === "2.0.1", 3000, "v2 back");
});

test("--consul-register: a VM's sidecar registers its inbound listener with a passing check, and deregisters on SIGTERM", async () => {
  const app = startEcho("ratings");
  const sidecar = await startSidecar(await tempConfig({ "mesh.yaml": mesh }), [
    "--app", app.address, "--inbound", "127.0.0.1:0", "--labels", "app=ratings,version=v3", "--consul-register", agent.address,
  ]);
  const instances = await eventually(async () => {
    const r = await curl([`${agent.address}/v1/health/service/ratings?passing`]);
    const list = JSON.parse(r.body);
    return list.length ? list : undefined;
  }, 5000, "a passing ratings instance");
  assert.is(instances.length, 1);
  assert.is(`${instances[0].Service.Address}:${instances[0].Service.Port}`, sidecar.inbound);
  assert.is(instances[0].Service.Meta.version, "v3");
  assert.is(await runCommand("kill", ["-TERM", String(sidecar.child.pid)]).exited, 0);
  await eventually(async () => JSON.parse((await curl([`${agent.address}/v1/catalog/service/ratings`])).body).length === 0, 5000, "deregistration");
  await app.server.stop(true);
});

/** the gateway's dietmesh_registry_synced gauge for the consul registry (admin /stats/prometheus) */
const consulSynced = () => metricValue(gateway.admin, "dietmesh_registry_synced", { registry: "consul" });

test("with the agent gone, the last state keeps serving; the registry's gauge says the watch failed", async () => {
  assert.is(await consulSynced(), 1, "synced while the agent answers");
  await agent.stop();
  for (let i = 0; i < 5; i++) assert.is(await hello(["-H", "x-canary: yes"]), "2.0.1");
  assert.is(await hello(), "1.0.1");
  await eventually(async () => (await consulSynced()) === 0, 10_000, "dietmesh_registry_synced 0 once the watch failed");
  assert.is(await hello(), "1.0.1", "still serving the last state");
});

test.run();
