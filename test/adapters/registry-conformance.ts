// The scenarios every Registry must pass, whatever it reads (files, Consul, Kubernetes): run it
// with a fixture that drives the adapter's own source of truth, as hono's router suite runs
// against every router. Each scenario gets a fresh fixture.
import { suite, type Test } from "uvu";
import * as assert from "uvu/assert";
import type { Registry } from "../../runtime/model/registry.ts";
import type { RegistrySnapshot, Service } from "../../runtime/model/types.ts";
import { endpointPort } from "../../adapters/static/endpoint-port.ts";
import { eventually } from "../support/mesh.ts";

export interface Instance {
  id: string;
  address: string;
  port: number;
  labels?: Record<string, string>;
}

export interface RegistryFixture {
  registry: Registry;
  /** the host name the registry gives the service called `name` */
  host(name: string): string;
  addService(name: string, instances: Instance[]): Promise<void>;
  removeInstance(name: string, id: string): Promise<void>;
  /** whatever "unhealthy" or "not ready" means to the source */
  setHealthy(name: string, id: string, healthy: boolean): Promise<void>;
  removeService(name: string): Promise<void>;
  /** the source breaks (agent gone, file unparsable); changes made meanwhile must wait */
  fail(): Promise<void>;
  recover(): Promise<void>;
  /** how many failures the registry has noticed so far */
  failures(): number;
  close(): Promise<void>;
}

interface Watched {
  updates: RegistrySnapshot[];
  latest(): RegistrySnapshot | undefined;
  syncedAtEachUpdate: boolean[];
}

function watch(registry: Registry): Watched {
  const updates: RegistrySnapshot[] = [];
  const syncedAtEachUpdate: boolean[] = [];
  registry.start((snapshot) => {
    updates.push(snapshot);
    syncedAtEachUpdate.push(registry.synced());
  });
  return { updates, syncedAtEachUpdate, latest: () => updates.at(-1) };
}

const TIMEOUT_MS = 5000;

/** waits until the latest snapshot satisfies `check`, which returns a reason while it does not */
async function converge(w: Watched, what: string, check: (s: RegistrySnapshot) => string | undefined): Promise<RegistrySnapshot> {
  let reason = "no snapshot yet";
  return eventually(async () => {
    const s = w.latest();
    reason = s ? check(s) ?? "" : "no snapshot yet";
    return reason === "" ? s : undefined;
  }, TIMEOUT_MS, `${what} (${reason})`).catch((e) => {
    throw new Error(`${e.message}; last: ${reason}`);
  });
}

function addresses(service: Service | undefined): string[] {
  return (service?.endpoints ?? []).map((e) => `${e.address}:${service ? endpointPort(e, service.ports[0]) : 0}`).sort();
}

const reviews: Instance[] = [
  { id: "reviews-1", address: "10.0.0.1", port: 9080, labels: { version: "v1", app: "reviews" } },
  { id: "reviews-2", address: "10.0.0.2", port: 9081, labels: { version: "v2", app: "reviews" } },
];

export function registryConformance(name: string, makeFixture: () => Promise<RegistryFixture>): Test {
  const test = suite(`${name} registry conformance`);
  let fx: RegistryFixture;
  let w: Watched | undefined;
  test.before.each(async () => {
    fx = await makeFixture();
    w = undefined;
  });
  test.after.each(async () => {
    fx.registry.stop();
    await fx.close();
  });
  const start = () => (w = watch(fx.registry));
  const has = (host: string, expected: string[]) => (s: RegistrySnapshot) => {
    const got = addresses(s.services.get(host));
    return got.join() === expected.join() ? undefined : `${host}: [${got}] wanted [${expected}]`;
  };

  test("the first sync gates synced(); snapshots are complete and frozen", async () => {
    assert.is(fx.registry.synced(), false, "not synced before anything was read");
    await fx.addService("reviews", reviews);
    const s = await converge(start(), "first snapshot", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
    assert.ok(fx.registry.synced());
    assert.ok(w!.syncedAtEachUpdate.every(Boolean), "no update before synced() turns true");
    assert.ok(w!.updates.every((u) => u.services.size > 0), "never a partial (empty) picture first");
    assert.ok(Object.isFrozen(s));
    assert.throws(() => (s.services as Map<string, Service>).set("x", {} as Service));
  });

  test("a service with two endpoints and their labels", async () => {
    await fx.addService("ratings", [{ id: "ratings-1", address: "10.0.1.1", port: 8080 }]);
    await converge(start(), "synced", has(fx.host("ratings"), ["10.0.1.1:8080"]));
    await fx.addService("reviews", reviews); // a change after the first sync
    const s = await converge(w!, "service added", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
    const svc = s.services.get(fx.host("reviews"))!;
    assert.is(svc.hostname, fx.host("reviews"));
    const byAddress = new Map(svc.endpoints.map((e) => [e.address, e]));
    for (const instance of reviews) {
      const ep = byAddress.get(instance.address)!;
      assert.ok(ep.ready);
      for (const [k, v] of Object.entries(instance.labels ?? {})) assert.is(ep.labels[k], v, `label ${k} of ${instance.id}`);
    }
  });

  test("an endpoint removed", async () => {
    await fx.addService("reviews", reviews);
    await converge(start(), "synced", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
    await fx.removeInstance("reviews", "reviews-2");
    await converge(w!, "endpoint removed", has(fx.host("reviews"), ["10.0.0.1:9080"]));
  });

  test("an endpoint turning unhealthy leaves; healthy again, it returns", async () => {
    await fx.addService("reviews", reviews);
    await converge(start(), "synced", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
    await fx.setHealthy("reviews", "reviews-1", false);
    await converge(w!, "unhealthy endpoint removed", has(fx.host("reviews"), ["10.0.0.2:9081"]));
    await fx.setHealthy("reviews", "reviews-1", true);
    await converge(w!, "healthy endpoint back", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
  });

  test("a service removed", async () => {
    await fx.addService("reviews", reviews);
    await fx.addService("ratings", [{ id: "ratings-1", address: "10.0.1.1", port: 8080 }]);
    await converge(start(), "synced", has(fx.host("ratings"), ["10.0.1.1:8080"]));
    await fx.removeService("ratings");
    await converge(w!, "service gone", (s) => (s.services.has(fx.host("ratings")) ? "ratings still there" : undefined));
    assert.ok(w!.latest()!.services.has(fx.host("reviews")), "the other service stays");
  });

  test("a failing source keeps the last state; recovery converges on the truth", async () => {
    await fx.addService("reviews", reviews);
    await converge(start(), "synced", has(fx.host("reviews"), ["10.0.0.1:9080", "10.0.0.2:9081"]));
    const before = w!.updates.length;
    await fx.fail();
    await eventually(async () => fx.failures() > 0, TIMEOUT_MS, "the failure noticed");
    await fx.removeInstance("reviews", "reviews-2");
    await fx.addService("late", [{ id: "late-1", address: "10.0.2.1", port: 7070 }]);
    await eventually(async () => fx.failures() > 1, TIMEOUT_MS, "a retry that fails too");
    assert.is(w!.updates.length, before, "nothing emitted while failing");
    assert.equal(addresses(w!.latest()!.services.get(fx.host("reviews"))), ["10.0.0.1:9080", "10.0.0.2:9081"], "last state kept");
    assert.ok(fx.registry.synced(), "still synced");
    await fx.recover();
    await converge(w!, "recovered", (s) => has(fx.host("reviews"), ["10.0.0.1:9080"])(s) ?? has(fx.host("late"), ["10.0.2.1:7070"])(s));
  });

  return test;
}
