// Several registries as one: the first listed wins a host whole, endpoints never mix, members
// not yet synced contribute nothing, synced() waits for all.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mergeRegistries, mergeSnapshots } from "../../runtime/model/registry-merge.ts";
import { freezeSnapshot, staticRegistry } from "../../runtime/model/registry.ts";
import type { RegistrySnapshot, Service } from "../../runtime/model/types.ts";

function service(host: string, source: string, ...addresses: string[]): Service {
  return {
    hostname: host, namespace: "default", ports: [{ name: "http", number: 80, protocol: "HTTP" }],
    endpoints: addresses.map((address) => ({ address, ports: {}, labels: {}, ready: true })),
    location: "MESH_INTERNAL", resolution: "STATIC", source,
  };
}
const snap = (...services: Service[]) => freezeSnapshot(services.map((s) => [s.hostname, s]));
const addrs = (s: RegistrySnapshot, host: string) => s.services.get(host)?.endpoints.map((e) => e.address);

test("mergeSnapshots: first listed wins the host whole; shadowed hosts are reported", () => {
  const files = snap(service("web", "static", "1.1.1.1"), service("db", "static", "2.2.2.2"));
  const consul = snap(service("web", "consul", "9.9.9.9", "8.8.8.8"), service("cache", "consul", "3.3.3.3"));
  const merged = mergeSnapshots([{ name: "static", snapshot: files }, { name: "consul", snapshot: consul }]);
  assert.equal([...merged.snapshot.services.keys()].sort(), ["cache", "db", "web"]);
  assert.equal(addrs(merged.snapshot, "web"), ["1.1.1.1"], "endpoints are not mixed");
  assert.is(merged.snapshot.services.get("web")!.source, "static");
  assert.equal(merged.shadowed, [{ host: "web", winner: "static", loser: "consul" }]);
  assert.ok(Object.isFrozen(merged.snapshot));
  const reversed = mergeSnapshots([{ name: "consul", snapshot: consul }, { name: "static", snapshot: files }]);
  assert.equal(addrs(reversed.snapshot, "web"), ["9.9.9.9", "8.8.8.8"]);
  assert.equal(mergeSnapshots([{ name: "a" }, { name: "b", snapshot: files }]).snapshot.services.size, 2, "an unsynced part adds nothing");
});

test("mergeRegistries: updates from any member, synced() once all are", () => {
  const a = staticRegistry(undefined, "static");
  const b = staticRegistry(undefined, "consul");
  const logs: string[] = [];
  const merged = mergeRegistries([a, b], { log: (m) => logs.push(m) });
  assert.is(merged.name, "static+consul");
  const seen: RegistrySnapshot[] = [];
  merged.start((s) => seen.push(s));
  assert.is(merged.synced(), false);
  b.publish(snap(service("web", "consul", "9.9.9.9")));
  assert.is(merged.synced(), false, "static has not synced");
  assert.equal(addrs(seen.at(-1)!, "web"), ["9.9.9.9"], "a partial merge is still passed on");
  a.publish(snap(service("web", "static", "1.1.1.1")));
  assert.is(merged.synced(), true);
  assert.equal(addrs(seen.at(-1)!, "web"), ["1.1.1.1"]);
  assert.equal(logs, ["registries disagree, first listed wins: web (static over consul)"]);
  b.publish(snap(service("web", "consul", "7.7.7.7"), service("api", "consul", "4.4.4.4")));
  assert.equal(addrs(seen.at(-1)!, "api"), ["4.4.4.4"]);
  assert.is(logs.length, 1, "logged only when the set of shadowed hosts changes");
  a.publish(snap());
  assert.equal(addrs(seen.at(-1)!, "web"), ["7.7.7.7"], "the host falls to the next registry");
  assert.is(logs.at(-1), "registries no longer disagree on any host");
  merged.stop();
  const count = seen.length;
  a.publish(snap(service("x", "static", "5.5.5.5")));
  assert.is(seen.length, count, "no updates after stop");
});

test("one registry merges to itself; staticRegistry starts with what it holds", () => {
  const only = staticRegistry(snap(service("web", "static", "1.1.1.1")));
  assert.is(mergeRegistries([only]), only);
  assert.ok(only.synced());
  const seen: RegistrySnapshot[] = [];
  only.start((s) => seen.push(s));
  assert.is(seen.length, 1, "delivered at start");
  only.stop();
  only.publish(snap());
  assert.is(seen.length, 1);
  assert.ok(only.synced());
});

test.run();
