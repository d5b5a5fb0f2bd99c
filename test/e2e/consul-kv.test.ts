// Istio config from Consul KV (`--registry consul=URL?kv=PREFIX`): a real gateway routes by a
// VirtualService stored in the test Consul agent's KV, follows a change to it within a second, and
// keeps the last good config when a value under the prefix is broken YAML or an invalid resource.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";
import { startConsulAgent, type ConsulAgent } from "../support/consul-agent.ts";

const apps = ["1.0.1", "2.0.1"].map((version) =>
  platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response(JSON.stringify({ version })) }),
);
let agent: ConsulAgent;
let gateway: Gateway;

// the Gateway and DestinationRule come from a file, the VirtualService from KV
const files = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: hello-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [hello.kv.example] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: hello }
spec:
  host: hello.service.consul
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;
const vs = (subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hello }
spec:
  hosts: [hello.kv.example]
  gateways: [hello-gateway]
  http:
  - route: [{ destination: { host: hello.service.consul, subset: ${subset} } }]
`;

const put = (path: string, body?: string) => curl(["-X", "PUT", ...(body === undefined ? [] : ["--data-binary", body]), `${agent.address}${path}`]);
const hello = async () => {
  const r = await curl(["-H", "Host: hello.kv.example", `http://${gateway.port80}/`]);
  return r.status === 200 ? (JSON.parse(r.body).version as string) : `${r.status} ${r.headers["x-dietmesh-response-flags"] ?? ""}`;
};

test.before(async () => {
  agent = startConsulAgent();
  for (const [i, version] of ["v1", "v2"].entries()) {
    const reg = { Name: "hello", ID: `hello-${version}`, Address: "127.0.0.1", Port: apps[i].port, Meta: { version }, Check: { TTL: "30s" } };
    assert.is((await put("/v1/agent/service/register", JSON.stringify(reg))).status, 200);
    assert.is((await put(`/v1/agent/check/pass/service:hello-${version}`)).status, 200);
  }
  assert.is((await put("/v1/kv/istio/hello/virtual-service.yaml", vs("v1"))).status, 200);
  assert.is((await put("/v1/kv/istio/README", "not config: only .yaml and .yml keys are read")).status, 200);
  gateway = await startGateway(await tempConfig({ "mesh.yaml": files }), ["--registry", `consul=${agent.address}?kv=istio/`]);
});

test.after(async () => {
  stopAll();
  await agent?.stop();
  await Promise.all(apps.map((a) => a.stop(true)));
});

test("the VirtualService in KV routes; a change to it applies within a second", async () => {
  await eventually(async () => (await hello()) === "1.0.1", 5000, "v1 from the KV VirtualService");
  assert.is((await put("/v1/kv/istio/hello/virtual-service.yaml", vs("v2"))).status, 200);
  const started = Date.now();
  await eventually(async () => (await hello()) === "2.0.1", 3000, "v2 after the KV change");
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test("broken YAML or an invalid resource under the prefix: reported, and the last good config keeps serving", async () => {
  const marks = gateway.child.lines.length;
  assert.is((await put("/v1/kv/istio/broken.yaml", "kind: [unclosed")).status, 200);
  await eventually(async () => gateway.child.lines.slice(marks).some((l) => l.includes("kv istio/broken.yaml") && l.includes("not YAML")), 3000, "the YAML error in the log");
  assert.is((await put("/v1/kv/istio/hello/virtual-service.yaml", vs("v2").replace("route:", "rout:"))).status, 200);
  await eventually(async () => gateway.child.lines.slice(marks).some((l) => l.includes("consul:kv/istio/hello/virtual-service.yaml")), 3000, "the schema error naming the key");
  for (let i = 0; i < 3; i++) assert.is(await hello(), "2.0.1");
});

test.run();
