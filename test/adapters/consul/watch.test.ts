// The Consul registry against the fake agent over real HTTP: the index going backwards, ACL
// tokens, a TTL check expiring, the datacenter.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { consulOptionsFrom } from "../../../adapters/consul/options.ts";
import { registerWorkload } from "../../../adapters/consul/register.ts";
import type { RegistrySnapshot } from "../../../runtime/model/types.ts";
import { createFakeClock } from "../../../runtime/lib/clock.ts";
import { eventually } from "../../support/mesh.ts";
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
  const until = (host: string, expected: string, ms = 5000) =>
    eventually(async () => addresses(host) === expected, ms, `${host} = ${expected} (have ${addresses(host)})`);
  return { latest: () => latest, addresses, until };
}

const instance = (id: string, address: string) => ({ id, address, port: 8080 });

test("an index that goes backwards (a snapshot restore) restarts the loop with a plain read", async () => {
  fx = await consulFixture();
  await fx.addService("web", [instance("web-1", "10.0.0.1")]);
  const w = watch(fx);
  await w.until("web.service.consul", "10.0.0.1");
  const agent = fx.agent();
  const blockedOn = (path: string) => agent.requests.some((r) => r.path === path && r.query.index !== undefined);
  await eventually(async () => blockedOn("/v1/catalog/services") && blockedOn("/v1/health/service/web"), 5000, "blocking queries out");
  const seen = agent.requests.length;
  const indexBefore = fx.store.lastIndex();
  fx.store.rewindIndex(3);
  const plainRead = (path: string) => agent.requests.slice(seen).some((r) => r.path === path && r.query.index === undefined);
  await eventually(async () => plainRead("/v1/catalog/services") && plainRead("/v1/health/service/web"), 5000, "plain reads after the reset");
  await fx.addService("web", [instance("web-2", "10.0.0.2")]);
  await w.until("web.service.consul", "10.0.0.1,10.0.0.2");
  const after = agent.requests.slice(seen).filter((r) => r.query.index !== undefined).map((r) => Number(r.query.index));
  assert.ok(fx.store.lastIndex() < indexBefore);
  assert.ok(after.length > 0 && after.every((i) => i >= 1 && i <= fx!.store.lastIndex()), `blocking again on the new, lower indexes: ${after}`);
});

test("ACL: the token from CONSUL_HTTP_TOKEN goes in X-Consul-Token and unlocks the catalog", async () => {
  const options = consulOptionsFrom(undefined, (name) => ({ CONSUL_HTTP_TOKEN: "s3cr3t" })[name]);
  fx = await consulFixture({ agentToken: "s3cr3t", token: options.token });
  await fx.addService("web", [instance("web-1", "10.0.0.1")]);
  const w = watch(fx);
  await w.until("web.service.consul", "10.0.0.1");
  assert.ok(fx.agent().requests.every((r) => r.query.token === undefined), "never in the URL");
});

test("ACL: without a token the catalog is filtered to nothing, and the log says why", async () => {
  fx = await consulFixture({ agentToken: "s3cr3t" });
  await fx.addService("web", [instance("web-1", "10.0.0.1")]);
  const w = watch(fx);
  await eventually(async () => w.latest() !== undefined, 5000, "a sync");
  assert.is(w.latest()!.services.size, 0);
  assert.ok(fx.logs.some((l) => /hidden by ACLs.*service:read and node:read/.test(l)), fx.logs.join("\n"));
});

test("ACL: an unknown token fails the watch (403 ACL not found) and nothing is published", async () => {
  fx = await consulFixture({ agentToken: "s3cr3t", token: "wrong" });
  await fx.addService("web", [instance("web-1", "10.0.0.1")]);
  const w = watch(fx);
  await eventually(async () => fx!.failures() >= 2, 5000, "retries");
  assert.match(fx.logs[0], /403 ACL not found/);
  assert.is(w.latest(), undefined);
  assert.is(fx.registry.synced(), false);
});

test("a TTL check that expires removes the instance within 1 s", async () => {
  const clock = createFakeClock(Date.now());
  fx = await consulFixture({ agentClock: clock, rateLimit: undefined });
  const vm = await registerWorkload({ agent: fx.agent().address, name: "vm", id: "vm-1", address: "10.0.9.1", port: 8080, checkTtl: "10s" });
  assert.is(vm.checkId, "service:vm-1");
  await vm.pass("alive");
  const w = watch(fx);
  await w.until("vm.service.consul", "10.0.9.1");
  // the steady state: the watch waits on vm's current index (a change right after another may
  // wait for the rate limiter's next token, up to 1 s, before it is even asked for)
  const index = () => String(fx!.store.serviceIndex("default", "vm"));
  const blocked = () => eventually(async () => fx!.agent().requests.some((r) => r.path === "/v1/health/service/vm" && r.query.index === index()), 5000, "blocked on vm");
  await blocked();
  clock.advance(9_999);
  assert.is(w.addresses("vm.service.consul"), "10.0.9.1", "not expired yet");
  const started = Date.now();
  clock.advance(1);
  await w.until("vm.service.consul", "", 1000);
  assert.ok(Date.now() - started < 1000);
  assert.is(fx.store.checks.get(`${fx.store.nodeName}/service:vm-1`)!.Output, "TTL expired");
  await vm.pass();
  await w.until("vm.service.consul", "10.0.9.1");
  await blocked();
  await vm.fail("draining");
  await w.until("vm.service.consul", "", 1000);
});

test("a datacenter adds <name>.service.<dc>.consul; an unknown one fails the watch", async () => {
  fx = await consulFixture({ datacenter: "dc1" });
  await fx.addService("web", [instance("web-1", "10.0.0.1")]);
  const w = watch(fx);
  await w.until("web.service.dc1.consul", "10.0.0.1");
  assert.is(w.addresses("web"), "10.0.0.1", "the bare name too");
  assert.ok(fx.agent().requests.every((r) => !r.path.startsWith("/v1/catalog") || r.query.dc === "dc1"));
  await fx.close();
  fx = await consulFixture({ datacenter: "west" });
  watch(fx);
  await eventually(async () => fx!.failures() > 0, 5000, "a failure");
  assert.match(fx.logs[0], /500 No path to datacenter/);
});

test.run();
