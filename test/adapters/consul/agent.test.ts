// The fake Consul agent speaks Consul's HTTP API to real clients: curl registers, queries,
// blocks on indexes, uses the KV store and ACL tokens, as it would against a real agent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock } from "../../../runtime/lib/clock.ts";
import { curl, eventually, startProcess, stopAll, root } from "../../support/mesh.ts";
import { startConsulAgent, type ConsulAgent } from "../../support/consul-agent.ts";

let agent: ConsulAgent | undefined;
test.after.each(async () => {
  await agent?.stop();
  agent = undefined;
  stopAll();
});

const put = (url: string, body?: string) => curl(["-X", "PUT", ...(body === undefined ? [] : ["--data-binary", body]), url]);
const json = async (url: string, extra: string[] = []) => {
  const r = await curl([...extra, url]);
  return { ...r, json: JSON.parse(r.body || "null") };
};

test("register with a TTL check, see it critical, pass it, find it ?passing", async () => {
  agent = startConsulAgent();
  const a = agent.address;
  const reg = await put(`${a}/v1/agent/service/register`, JSON.stringify({ Name: "web", ID: "web-1", Address: "10.0.0.1", Port: 8080, Tags: ["v1"], Meta: { version: "v1" }, Check: { TTL: "30s" } }));
  assert.is(reg.status, 200);
  assert.is(reg.headers["x-consul-knownleader"], "true");
  assert.equal((await json(`${a}/v1/catalog/services`)).json, { web: ["v1"] });
  const health = await json(`${a}/v1/health/service/web`);
  assert.is(health.json[0].Service.Address, "10.0.0.1");
  assert.equal(health.json[0].Checks.map((c: { CheckID: string; Status: string }) => `${c.CheckID}=${c.Status}`), ["serfHealth=passing", "service:web-1=critical"]);
  assert.equal((await json(`${a}/v1/health/service/web?passing`)).json, [], "critical until the first pass");
  assert.is((await put(`${a}/v1/agent/check/pass/service:web-1?note=ok`)).status, 200);
  const passing = await json(`${a}/v1/health/service/web?passing`);
  assert.is(passing.json.length, 1);
  assert.is(passing.json[0].Checks[1].Output, "ok");
  const catalog = await json(`${a}/v1/catalog/service/web`);
  assert.equal([catalog.json[0].ServiceID, catalog.json[0].ServicePort, catalog.json[0].ServiceMeta], ["web-1", 8080, { version: "v1" }]);
  assert.ok(Number(catalog.headers["x-consul-index"]) > 0);
  assert.is((await put(`${a}/v1/agent/service/deregister/web-1`)).status, 200);
  assert.equal((await json(`${a}/v1/catalog/services`)).json, {});
  assert.is((await put(`${a}/v1/agent/check/pass/service:web-1`)).status, 404, "its check went with it");
});

test("a blocking query holds until the index passes ?index, or until ?wait elapses", async () => {
  agent = startConsulAgent();
  const a = agent.address;
  const first = await json(`${a}/v1/catalog/services`);
  const index = first.headers["x-consul-index"];
  const started = Date.now();
  const timedOut = await json(`${a}/v1/catalog/services?index=${index}&wait=200ms`);
  assert.ok(Date.now() - started >= 200, "held for the wait");
  assert.is(timedOut.headers["x-consul-index"], index, "same index: nothing changed");
  const pending = json(`${a}/v1/catalog/services?index=${index}&wait=5s`);
  const held = agent.requests.length;
  await eventually(async () => agent!.requests.length > held, 2000, "the query arrived");
  await put(`${a}/v1/agent/service/register`, JSON.stringify({ Name: "api", Port: 80 }));
  const woke = await pending;
  assert.ok(Number(woke.headers["x-consul-index"]) > Number(index));
  assert.equal(woke.json, { api: [] });
  assert.is((await curl([`${a}/v1/catalog/services?index=x`])).status, 400);
  assert.is((await curl([`${a}/v1/catalog/services?index=1&wait=soon`])).status, 400);
});

test("KV: values base64 in JSON, ?raw, ?recurse, ?keys, cas, delete", async () => {
  agent = startConsulAgent();
  const kv = `${agent.address}/v1/kv`;
  assert.is((await put(`${kv}/app/config`, "hello")).body, "true");
  await put(`${kv}/app/db/url`, "postgres://x");
  const one = await json(`${kv}/app/config`);
  assert.is(one.json[0].Key, "app/config");
  assert.is(atob(one.json[0].Value), "hello");
  assert.is((await curl([`${kv}/app/config?raw`])).body, "hello");
  assert.equal((await json(`${kv}/app?recurse`)).json.map((e: { Key: string }) => e.Key), ["app/config", "app/db/url"]);
  assert.equal((await json(`${kv}/app/?keys&separator=/`)).json, ["app/config", "app/db/"]);
  assert.is((await put(`${kv}/app/config?cas=0`, "again")).body, "false", "cas=0 only creates");
  assert.is((await put(`${kv}/app/config?cas=${one.json[0].ModifyIndex}`, "bye")).body, "true");
  assert.is((await curl(["-X", "DELETE", `${kv}/app?recurse`])).body, "true");
  assert.is((await curl([`${kv}/app/config`])).status, 404);
});

test("ACL: a token in X-Consul-Token or ?token=; anonymous reads are filtered, writes denied", async () => {
  agent = startConsulAgent({ token: "s3cr3t" });
  const a = agent.address;
  const body = JSON.stringify({ Name: "web", Port: 80 });
  const denied = await put(`${a}/v1/agent/service/register`, body);
  assert.is(denied.status, 403);
  assert.match(denied.body, /Permission denied/);
  assert.is((await curl(["-X", "PUT", "-H", "X-Consul-Token: wrong", "--data-binary", body, `${a}/v1/agent/service/register`])).body, "ACL not found");
  assert.is((await curl(["-X", "PUT", "-H", "X-Consul-Token: s3cr3t", "--data-binary", body, `${a}/v1/agent/service/register`])).status, 200);
  const anonymous = await json(`${a}/v1/catalog/services`);
  assert.equal(anonymous.json, {});
  assert.is(anonymous.headers["x-consul-results-filtered-by-acls"], "true");
  assert.equal((await json(`${a}/v1/catalog/services?token=s3cr3t`)).json, { web: [] });
  assert.equal((await json(`${a}/v1/catalog/services`, ["-H", "Authorization: Bearer s3cr3t"])).json, { web: [] });
  assert.is((await curl([`${a}/v1/kv/secret`])).status, 403);
});

test("catalog register: a service without an address is reached at its node's address", async () => {
  agent = startConsulAgent();
  const a = agent.address;
  const r = await put(`${a}/v1/catalog/register`, JSON.stringify({
    Node: "external", Address: "192.168.5.5", Service: { Service: "legacy", Port: 5432 },
    Check: { CheckID: "legacy-alive", Status: "passing", ServiceID: "legacy" },
  }));
  assert.is(r.body, "true");
  const [entry] = (await json(`${a}/v1/health/service/legacy?passing`)).json;
  assert.equal([entry.Node.Address, entry.Service.Address, entry.Service.Port], ["192.168.5.5", "", 5432]);
  await put(`${a}/v1/catalog/deregister`, JSON.stringify({ Node: "external" }));
  assert.equal((await json(`${a}/v1/health/service/legacy`)).json, []);
});

test("a TTL check with no update within its TTL turns critical (agent on a fake clock)", async () => {
  const clock = createFakeClock();
  agent = startConsulAgent({ clock });
  const a = agent.address;
  await put(`${a}/v1/agent/service/register`, JSON.stringify({ Name: "vm", Port: 80, Checks: [{ TTL: "5s", Status: "passing" }, { TTL: "1m", Status: "passing" }] }));
  const status = async () => (await json(`${a}/v1/agent/checks`)).json;
  assert.equal(Object.keys(await status()).sort(), ["serfHealth", "service:vm:1", "service:vm:2"]);
  clock.advance(4_000);
  await put(`${a}/v1/agent/check/warn/service:vm:1?note=slow`);
  clock.advance(4_000);
  assert.is((await status())["service:vm:1"].Status, "warning", "an update restarts the TTL");
  clock.advance(1_000);
  assert.equal([(await status())["service:vm:1"].Status, (await status())["service:vm:1"].Output], ["critical", "TTL expired"]);
  assert.is((await status())["service:vm:2"].Status, "passing");
});

test("npm run consul-agent -- --port N prints where it listens", async () => {
  const child = startProcess(`${root}test/support/consul-agent-main.ts`, ["--port", "0"]);
  const [, address] = await child.waitFor(/consul-agent listening on (127\.0\.0\.1:\d+)/);
  assert.is((await curl([`http://${address}/v1/status/leader`])).body, '"127.0.0.1:8300"');
});

test.run();
