// dns-registry: DNS and DNS_ROUND_ROBIN services expanded from a scripted resolver, with the
// re-resolution timers driven on the fake clock (TTL with floor and ceiling, backoff on failure,
// the last good addresses kept).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { dnsRegistry, failureDelay, refreshDelay, MAX_REFRESH_MS, MIN_REFRESH_MS, NO_TTL_REFRESH_MS, type DnsAnswer } from "../../runtime/model/dns-registry.ts";
import { freezeSnapshot, staticRegistry } from "../../runtime/model/registry.ts";
import type { Endpoint, RegistrySnapshot, Service } from "../../runtime/model/types.ts";

function service(hostname: string, resolution: Service["resolution"], addresses: string[]): Service {
  const endpoints: Endpoint[] = addresses.map((address) => ({ address, ports: { http: 8080 }, labels: { zone: "a" }, ready: true }));
  return { hostname, namespace: "ns", ports: [{ name: "http", number: 80, protocol: "HTTP" }], endpoints, location: "MESH_EXTERNAL", resolution, source: "static" };
}

/** a resolver whose answers the test sets; counts questions per name */
function scripted() {
  const answers = new Map<string, DnsAnswer | Error>();
  const asked = new Map<string, number>();
  return {
    answers,
    asked: (name: string) => asked.get(name) ?? 0,
    resolve: async (name: string): Promise<DnsAnswer> => {
      asked.set(name, (asked.get(name) ?? 0) + 1);
      const a = answers.get(name);
      if (!a || a instanceof Error) throw a ?? new Error("NXDOMAIN");
      return a;
    },
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const addresses = (s: RegistrySnapshot | undefined, host: string) => s?.services.get(host)?.endpoints.map((e) => e.address);

function setup(services: Service[]) {
  const clock = createFakeClock();
  const dns = scripted();
  const inner = staticRegistry(freezeSnapshot(services.map((s) => [s.hostname, s] as const)));
  const registry = dnsRegistry(inner, { resolve: dns.resolve, clock });
  let last: RegistrySnapshot | undefined;
  let emitted = 0;
  return { clock, dns, inner, registry, last: () => last, emitted: () => emitted, start: () => registry.start((s) => ((last = s), emitted++)) };
}

test("refresh delay: the TTL within the floor and ceiling; backoff doubles to its cap", () => {
  assert.is(refreshDelay(7), 7000);
  assert.is(refreshDelay(0), MIN_REFRESH_MS);
  assert.is(refreshDelay(86_400), MAX_REFRESH_MS);
  assert.is(refreshDelay(undefined), NO_TTL_REFRESH_MS);
  assert.equal([1, 2, 3, 6, 40].map(failureDelay), [1000, 2000, 4000, 30_000, 30_000]);
});

test("DNS: every address an endpoint with the name's ports and labels; DNS_ROUND_ROBIN: the first only", async () => {
  const t = setup([service("ext.example", "DNS", ["ext.example"]), service("rr.example", "DNS_ROUND_ROBIN", ["rr.example"]), service("fixed.example", "STATIC", ["10.0.0.1"])]);
  t.dns.answers.set("ext.example", { addresses: ["10.0.0.2", "10.0.0.3", "fd00::1"], ttl: 30 });
  t.dns.answers.set("rr.example", { addresses: ["10.0.1.1", "10.0.1.2"], ttl: 30 });
  t.start();
  // before the first answers: the names as they were, and not yet synced
  assert.equal(addresses(t.last(), "ext.example"), ["ext.example"]);
  assert.not.ok(t.registry.synced());
  await flush();
  assert.ok(t.registry.synced());
  assert.equal(addresses(t.last(), "ext.example"), ["10.0.0.2", "10.0.0.3", "fd00::1"]);
  assert.equal(t.last()!.services.get("ext.example")!.endpoints[1].ports, { http: 8080 });
  assert.equal(t.last()!.services.get("ext.example")!.endpoints[1].labels, { zone: "a" });
  assert.equal(addresses(t.last(), "rr.example"), ["10.0.1.1"]);
  assert.equal(addresses(t.last(), "fixed.example"), ["10.0.0.1"]);
  assert.equal(t.registry.names().find((n) => n.name === "ext.example"), { name: "ext.example", addresses: ["10.0.0.2", "10.0.0.3", "fd00::1"], failures: 0, ttlSeconds: 30 });
  t.registry.stop();
  assert.is(t.clock.pending(), 0);
});

test("re-resolved when the TTL runs out; a new snapshot only when the answer changed", async () => {
  const t = setup([service("ext.example", "DNS", ["ext.example"])]);
  t.dns.answers.set("ext.example", { addresses: ["10.0.0.2"], ttl: 10 });
  t.start();
  await flush();
  const emitted = t.emitted();
  await t.clock.advanceAsync(9_999);
  assert.is(t.dns.asked("ext.example"), 1);
  await t.clock.advanceAsync(1);
  await flush();
  assert.is(t.dns.asked("ext.example"), 2);
  assert.is(t.emitted(), emitted, "same answer: nothing to recompile");
  t.dns.answers.set("ext.example", { addresses: ["10.0.0.4", "10.0.0.5"], ttl: 0 });
  await t.clock.advanceAsync(10_000);
  await flush();
  assert.equal(addresses(t.last(), "ext.example"), ["10.0.0.4", "10.0.0.5"]);
  // TTL 0 is held to the floor
  await t.clock.advanceAsync(MIN_REFRESH_MS - 1);
  assert.is(t.dns.asked("ext.example"), 3);
  await t.clock.advanceAsync(1);
  await flush();
  assert.is(t.dns.asked("ext.example"), 4);
  t.registry.stop();
});

test("a failure keeps the last good addresses and retries with backoff", async () => {
  const t = setup([service("ext.example", "DNS", ["ext.example"])]);
  t.dns.answers.set("ext.example", { addresses: ["10.0.0.2"], ttl: 5 });
  t.start();
  await flush();
  t.dns.answers.set("ext.example", new Error("SERVFAIL"));
  await t.clock.advanceAsync(5_000);
  await flush();
  assert.is(t.dns.asked("ext.example"), 2);
  assert.equal(addresses(t.last(), "ext.example"), ["10.0.0.2"]);
  await t.clock.advanceAsync(1_000);
  await flush();
  assert.is(t.dns.asked("ext.example"), 3);
  await t.clock.advanceAsync(1_999);
  assert.is(t.dns.asked("ext.example"), 3, "second retry waits 2 s");
  t.dns.answers.set("ext.example", { addresses: ["10.0.0.9"], ttl: 5 });
  await t.clock.advanceAsync(1);
  await flush();
  assert.equal(addresses(t.last(), "ext.example"), ["10.0.0.9"]);
  assert.is(t.registry.names()[0].failures, 0);
  t.registry.stop();
});

test("NONE: the host of an entry without endpoints resolves to the first address; other NONE names are left to the OS", async () => {
  const t = setup([service("none.example", "NONE", ["none.example"]), service("vm.example", "NONE", ["vm-1.example"]), service("ip.example", "NONE", ["192.0.2.9"])]);
  t.dns.answers.set("none.example", { addresses: ["10.2.0.1", "10.2.0.2"], ttl: 30 });
  t.start();
  await flush();
  assert.equal(addresses(t.last(), "none.example"), ["10.2.0.1"]);
  assert.equal(t.last()!.services.get("none.example")!.endpoints[0].ports, { http: 8080 }, "the name's ports kept");
  assert.equal(addresses(t.last(), "vm.example"), ["vm-1.example"], "a WorkloadEntry's name: not the entry's host, not resolved here");
  assert.is(t.dns.asked("vm-1.example"), 0);
  assert.equal(addresses(t.last(), "ip.example"), ["192.0.2.9"]);
  assert.equal(t.registry.names().map((n) => n.name), ["none.example"]);
  t.registry.stop();
});

test("endpoints given as names are resolved; IPs pass; a name no longer used stops its timer", async () => {
  const t = setup([service("api.example", "DNS", ["us.api.example", "192.0.2.7"])]);
  t.dns.answers.set("us.api.example", { addresses: ["10.1.0.1", "10.1.0.2"], ttl: 60 });
  t.start();
  await flush();
  assert.equal(addresses(t.last(), "api.example"), ["10.1.0.1", "10.1.0.2", "192.0.2.7"]);
  assert.is(t.clock.pending(), 1);
  t.inner.publish(freezeSnapshot([["api.example", service("api.example", "DNS", ["192.0.2.7"])]]));
  assert.is(t.clock.pending(), 0);
  assert.equal(addresses(t.last(), "api.example"), ["192.0.2.7"]);
  t.registry.stop();
});

test.run();
