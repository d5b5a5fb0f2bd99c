// A Consul registry against the fake agent over real HTTP on loopback, for the conformance suite
// and the Consul tests. Changes go straight into the agent's state (as other agents' writes would
// reach the servers), so they can be made while the agent is down; fail() stops the agent and
// recover() starts a new one on the same port with the same state, as a restart would.
import { consulRegistry } from "../../../adapters/consul/index.ts";
import type { ConsulOptions } from "../../../adapters/consul/options.ts";
import { systemClock, type Clock } from "../../../runtime/lib/clock.ts";
import { startConsulAgent, type ConsulAgent } from "../../support/consul-agent.ts";
import type { Instance, RegistryFixture } from "../registry-conformance.ts";
import { createConsulStore, type ConsulStore } from "./fake-store.ts";

export interface ConsulFixture extends RegistryFixture {
  agent(): ConsulAgent;
  store: ConsulStore;
  logs: string[];
}

/** one instance on the agent's node with a passing check, labels as Service.Meta */
export function putInstance(store: ConsulStore, name: string, i: Instance, extra: { tags?: string[]; namespace?: string } = {}): void {
  store.putService({
    ID: i.id, Service: name, Tags: extra.tags ?? [], Address: i.address, Meta: i.labels ?? {}, Port: i.port,
    Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Namespace: extra.namespace ?? "default", Node: store.nodeName,
  });
  store.putCheck({
    Node: store.nodeName, CheckID: `service:${i.id}`, Name: "check", Status: "passing", Notes: "", Output: "",
    ServiceID: i.id, ServiceName: name, ServiceTags: [], Type: "ttl", Namespace: extra.namespace ?? "default",
  });
  store.changed();
}

export interface FixtureOptions extends Partial<ConsulOptions> {
  /** the token the agent enforces */
  agentToken?: string;
  /** the agent's clock (TTL checks, blocking waits); the registry's stays `clock` */
  agentClock?: Clock;
}

export async function consulFixture(options: FixtureOptions = {}): Promise<ConsulFixture> {
  const { agentToken, agentClock = systemClock, ...registryOptions } = options;
  const store = createConsulStore({ clock: agentClock });
  let agent = startConsulAgent({ store, token: agentToken, clock: agentClock });
  const port = agent.port;
  const logs: string[] = [];
  const registry = consulRegistry({
    address: agent.address,
    waitMs: 2000,
    rateLimit: { burst: 2, intervalMs: 100 },
    backoff: { baseMs: 50, maxMs: 400 },
    log: (message) => logs.push(message),
    ...registryOptions,
  });
  const idsOf = (name: string) => [...store.services.values()].filter((s) => s.Service === name).map((s) => s.ID);

  return {
    registry,
    store,
    logs,
    agent: () => agent,
    host: (name) => `${name}.service.consul`,
    async addService(name, instances) {
      for (const i of instances) putInstance(store, name, i);
    },
    async removeInstance(_name, id) {
      store.removeService(store.nodeName, id);
      store.changed();
    },
    async setHealthy(_name, id, healthy) {
      store.setStatus(`${store.nodeName}/service:${id}`, healthy ? "passing" : "critical", healthy ? "" : "failing");
    },
    async removeService(name) {
      for (const id of idsOf(name)) store.removeService(store.nodeName, id);
      store.changed();
    },
    async fail() {
      await agent.stop();
    },
    async recover() {
      agent = startConsulAgent({ store, port, token: agentToken, clock: agentClock });
    },
    failures: () => logs.filter((l) => l.includes("retrying")).length,
    async close() {
      registry.stop();
      await agent.stop();
      store.close();
    },
  };
}
