// The Consul registry querying instances only for the services in use (adapters/consul/source.ts,
// above endpointsOnDemandAbove catalog services): every catalog service is in the snapshot, without
// instances until use(), which starts its blocking health query and settles once a snapshot holds
// its first answer; an idle service's query stops. The conformance suite runs in this mode through
// a consumer that uses every service it sees.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Registry } from "../../../runtime/model/registry.ts";
import type { RegistrySnapshot } from "../../../runtime/model/types.ts";
import { eventually } from "../../support/mesh.ts";
import { registryConformance } from "../registry-conformance.ts";
import { consulFixture, type ConsulFixture } from "./fixture.ts";

/** a consumer that uses every service of every snapshot, as a proxy calling all of them would */
function usingEverything(registry: Registry): Registry {
  return {
    name: registry.name,
    start: (onUpdate) => registry.start((s) => {
      for (const service of s.services.values()) void service.use?.();
      onUpdate(s);
    }),
    stop: () => registry.stop(),
    synced: () => registry.synced(),
  };
}

registryConformance("consul, instances of the services in use", async () => {
  const fx = await consulFixture({ endpointsOnDemandAbove: 0 });
  return { ...fx, registry: usingEverything(fx.registry) };
}).run();

const test = suite("consul instances on demand");
let fx: ConsulFixture | undefined;
test.after.each(async () => {
  await fx?.close();
  fx = undefined;
});

async function start(options: Parameters<typeof consulFixture>[0] = {}) {
  fx = await consulFixture({ endpointsOnDemandAbove: 2, ...options });
  for (let i = 0; i < 3; i++) await fx.addService(`web-${i}`, [{ id: `web-${i}-a`, address: `10.0.0.${i + 1}`, port: 8080 }]);
  const updates: RegistrySnapshot[] = [];
  fx.registry.start((s) => updates.push(s));
  const until = (what: string, check: (s: RegistrySnapshot) => boolean) =>
    eventually(async () => { const s = updates.at(-1); return s && check(s) ? s : undefined; }, 5000, what);
  const health = () => fx!.agent().requests.filter((r) => r.path.startsWith("/v1/health/service/")).map((r) => r.path);
  return { updates, until, health };
}

test("above the threshold: the catalog only, until a service is used", async () => {
  const w = await start();
  const first = await w.until("synced", (s) => s.services.has("web-2.service.consul"));
  for (let i = 0; i < 3; i++) assert.equal(first.services.get(`web-${i}.service.consul`)!.endpoints, [], `web-${i} without instances before use`);
  assert.equal(w.health(), [], "no health query before a service is used");

  const waiting = first.services.get("web-1")!.use!();
  assert.ok(waiting, "the first use waits for the first answer");
  await waiting;
  const s = w.updates.at(-1)!;
  assert.equal(s.services.get("web-1.service.consul")!.endpoints.map((e) => e.address), ["10.0.0.2"], "the snapshot out when use() settles holds the instances");
  assert.equal(s.services.get("web-0.service.consul")!.endpoints, [], "services not used stay without instances");
  assert.is(s.services.get("web-1")!.use!(), undefined, "answered: no wait");
  assert.ok(w.health().every((p) => p === "/v1/health/service/web-1"), w.health().join());

  await fx!.addService("web-1", [{ id: "web-1-a", address: "10.0.0.2", port: 8080 }, { id: "web-1-b", address: "10.0.0.9", port: 8080 }]);
  await w.until("a new instance of a used service", (s) => s.services.get("web-1")!.endpoints.length === 2);
});

test("an idle service's query stops and its instances leave; a later use queries again", async () => {
  const w = await start({ endpointIdleMs: 300 });
  const first = await w.until("synced", (s) => s.services.has("web-0"));
  await first.services.get("web-0")!.use!();
  assert.is(w.updates.at(-1)!.services.get("web-0")!.endpoints.length, 1);
  const s = await w.until("instances dropped when idle", (s) => s.services.get("web-0")!.endpoints.length === 0);
  const again = s.services.get("web-0")!.use!();
  assert.ok(again, "a new first answer");
  await again;
  assert.is(w.updates.at(-1)!.services.get("web-0")!.endpoints.length, 1);
});

test.run();
