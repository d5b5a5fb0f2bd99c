// Registration of VM workloads through the agent API, and what the registry makes of them:
// Meta version → subset labels the compiler selects on, HTTP readiness checks, an agent restart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConsulError } from "../../../adapters/consul/client.ts";
import { registerWorkload } from "../../../adapters/consul/register.ts";
import { loadConfig } from "../../../runtime/config/load.ts";
import { compile } from "../../../runtime/model/compile.ts";
import type { RegistrySnapshot } from "../../../runtime/model/types.ts";
import { platform } from "../../../runtime/platform/index.ts";
import { eventually } from "../../support/mesh.ts";
import { memoryIO } from "../../config/memory-io.ts";
import { consulFixture, type ConsulFixture } from "./fixture.ts";

let fx: ConsulFixture | undefined;
test.after.each(async () => {
  await fx?.close();
  fx = undefined;
});

function watch(f: ConsulFixture) {
  let latest: RegistrySnapshot | undefined;
  f.registry.start((s) => (latest = s));
  const addresses = (host: string) => latest?.services.get(host)?.endpoints.map((e) => e.address).sort().join() ?? "(none)";
  const until = (host: string, expected: string) => eventually(async () => addresses(host) === expected, 5000, `${host} = ${expected} (have ${addresses(host)})`);
  return { latest: () => latest!, until };
}

const istio = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews.service.consul
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews.service.consul]
  http:
  - route:
    - { destination: { host: reviews.service.consul, subset: v1 }, weight: 90 }
    - { destination: { host: reviews.service.consul, subset: v2 }, weight: 10 }
`;

test("v1 and v2 instances: Meta version becomes the labels Istio subsets select", async () => {
  fx = await consulFixture();
  const agent = fx.agent().address;
  for (const [id, address, version] of [["reviews-v1", "10.0.0.1", "v1"], ["reviews-v2", "10.0.0.2", "v2"]]) {
    const w = await registerWorkload({ agent, name: "reviews", id, address, port: 9080, meta: { version }, tags: ["version=v0"], checkTtl: "30s" });
    await w.pass();
  }
  const w = watch(fx);
  await w.until("reviews.service.consul", "10.0.0.1,10.0.0.2");
  const loaded = await loadConfig(["/cfg"], { defaultNamespace: "default", ...memoryIO({ "/cfg/reviews.yaml": istio }) });
  assert.equal(loaded.errors, []);
  const table = compile(loaded.config!, w.latest(), { kind: "sidecar", namespace: "default", labels: {} }, { random: () => 0, version: 1 });
  const hosts = (subset: string) => table.clusters.get(`outbound|80|${subset}|reviews.service.consul`)?.hosts.map((h) => h.address);
  assert.equal(hosts("v1"), ["10.0.0.1:9080"], "Meta wins over the version=v0 tag");
  assert.equal(hosts("v2"), ["10.0.0.2:9080"]);
});

test("an HTTP check on the sidecar's /healthz/ready: not ready leaves the registry, ready returns", async () => {
  let ready = true;
  const sidecar = platform.serve({
    hostname: "127.0.0.1", port: 0,
    handler: (request) => new URL(request.url).pathname === "/healthz/ready" ? new Response(ready ? "ok" : "draining", { status: ready ? 200 : 503 }) : new Response("", { status: 404 }),
  });
  try {
    fx = await consulFixture();
    const w = watch(fx);
    await registerWorkload({
      agent: fx.agent().address, name: "vm-app", id: "vm-app-1", address: "10.0.7.1", port: 8080,
      checkHttp: `http://127.0.0.1:${sidecar.port}/healthz/ready`, checkInterval: "50ms",
    });
    await w.until("vm-app.service.consul", "10.0.7.1");
    ready = false;
    await w.until("vm-app.service.consul", "");
    assert.match(fx.store.checks.get(`${fx.store.nodeName}/service:vm-app-1`)!.Output, /503/);
    ready = true;
    await w.until("vm-app.service.consul", "10.0.7.1");
  } finally {
    await sidecar.stop(true);
  }
});

test("agent gone: the last state stays; agent back: registrations made then converge", async () => {
  fx = await consulFixture();
  const first = await registerWorkload({ agent: fx.agent().address, name: "api", id: "api-1", address: "10.0.8.1", port: 80, checkTtl: "60s" });
  await first.pass();
  const w = watch(fx);
  await w.until("api.service.consul", "10.0.8.1");
  await fx.fail();
  await eventually(async () => fx!.failures() >= 2, 5000, "failures noticed");
  assert.is(w.latest().services.get("api.service.consul")!.endpoints.length, 1, "last state kept");
  await rejects(() => registerWorkload({ agent: fx!.agent().address, name: "api", port: 80 }), /consul PUT \/v1\/agent\/service\/register/);
  await fx.recover();
  const second = await registerWorkload({ agent: fx.agent().address, name: "api", id: "api-2", address: "10.0.8.2", port: 80, checkTtl: "60s" });
  await second.pass();
  await first.deregister();
  await w.until("api.service.consul", "10.0.8.2");
});

test("registration errors come back as ConsulError with Consul's message", async () => {
  fx = await consulFixture({ agentToken: "s3cr3t" });
  const agent = fx.agent().address;
  const denied = await registerWorkload({ agent, name: "web", port: 80 }).catch((e) => e);
  assert.ok(denied instanceof ConsulError);
  assert.is(denied.status, 403);
  assert.match(denied.message, /lacks permission 'service:write' on "web"/);
  const bad = await registerWorkload({ agent, name: "web", port: 80, meta: { "consul-x": "1" }, token: "s3cr3t" }).catch((e) => e);
  assert.is(bad.status, 400);
  assert.match(bad.message, /Invalid Service Meta/);
  const ok = await registerWorkload({ agent, name: "web", port: 80, token: "s3cr3t" });
  assert.is(ok.checkId, undefined);
  await rejects(() => ok.pass(), /without a check/);
  await ok.deregister();
  await ok.deregister(); // Consul: "If the service does not exist, no action is taken."
  assert.equal([...fx.store.services.values()].filter((s) => s.Service === "web"), []);
});

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await fn().then(() => undefined, (e) => e);
  assert.ok(error instanceof Error, "expected a rejection");
  assert.match(error.message, pattern);
}

test.run();
