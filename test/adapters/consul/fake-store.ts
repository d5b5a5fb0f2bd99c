// The fake Consul agent's state (the part test/support/consul-agent.ts serves): nodes, service
// instances and checks with raft-style indexes. Every write takes the next index; a query's index
// is the last write that touched what it reads, so blocking queries wake when, and only when,
// their answer may have changed (as Consul's per-table and per-service indexes do).
import type { Clock } from "../../../runtime/lib/clock.ts";
import { createCheckRunner, type CheckRunner } from "./fake-checks.ts";
import { createKvTable } from "./fake-kv.ts";

export type CheckStatus = "passing" | "warning" | "critical";

export interface NodeRecord {
  ID: string; Node: string; Address: string; Datacenter: string;
  TaggedAddresses: Record<string, string>; Meta: Record<string, string>;
  CreateIndex: number; ModifyIndex: number;
}

export interface ServiceRecord {
  ID: string; Service: string; Tags: string[]; Address: string; Meta: Record<string, string>;
  Port: number; Weights: { Passing: number; Warning: number }; EnableTagOverride: boolean;
  Namespace: string; Node: string; CreateIndex: number; ModifyIndex: number;
}

export interface CheckRecord {
  Node: string; CheckID: string; Name: string; Status: CheckStatus; Notes: string; Output: string;
  ServiceID: string; ServiceName: string; ServiceTags: string[]; Type: string; Namespace: string;
  CreateIndex: number; ModifyIndex: number;
}

/** what a TTL or HTTP check needs beyond its record */
export interface CheckDefinition {
  ttlMs?: number;
  http?: string;
  intervalMs?: number;
  timeoutMs?: number;
}

export interface StoreOptions {
  clock: Clock;
  datacenter?: string;
  /** the agent's own node name (default "fake-agent") */
  node?: string;
}

export type ConsulStore = ReturnType<typeof createConsulStore>;

export function createConsulStore(options: StoreOptions) {
  const datacenter = options.datacenter ?? "dc1";
  const nodeName = options.node ?? "fake-agent";
  let index = 10;
  let servicesIndex = 1;
  const perService = new Map<string, number>(); // "ns/name" → last write touching it (kept after delete)
  const nodes = new Map<string, NodeRecord>();
  const services = new Map<string, ServiceRecord>(); // "node/id"
  const checks = new Map<string, CheckRecord>(); // "node/checkID"
  const listeners = new Set<(abandon: boolean) => void>();
  const svcKey = (ns: string, name: string) => `${ns}/${name}`;

  const store = {
    datacenter,
    nodeName,
    clock: options.clock,
    nodes, services, checks,
    /** the next raft index; every write takes one */
    write(): number {
      return ++index;
    },
    lastIndex: () => index,
    servicesIndex: () => servicesIndex,
    kv: createKvTable(() => ++index),
    serviceIndex: (ns: string, name: string) => perService.get(svcKey(ns, name)) ?? servicesIndex,
    onChange(fn: (abandon: boolean) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    changed(abandon = false): void {
      for (const fn of [...listeners]) fn(abandon);
    },
    touchService(ns: string, name: string, idx: number, catalog: boolean): void {
      perService.set(svcKey(ns, name), idx);
      if (catalog) servicesIndex = idx;
    },
    upsertNode(name: string, address: string, meta: Record<string, string> = {}): NodeRecord {
      const existing = nodes.get(name);
      if (existing && existing.Address === address) return existing;
      const idx = store.write();
      const node: NodeRecord = {
        ID: existing?.ID ?? crypto.randomUUID(), Node: name, Address: address, Datacenter: datacenter,
        TaggedAddresses: { lan: address, wan: address }, Meta: meta, CreateIndex: existing?.CreateIndex ?? idx, ModifyIndex: idx,
      };
      nodes.set(name, node);
      return node;
    },
    putService(record: Omit<ServiceRecord, "CreateIndex" | "ModifyIndex">): ServiceRecord {
      const key = `${record.Node}/${record.ID}`;
      const old = services.get(key);
      const idx = store.write();
      const service = { ...record, CreateIndex: old?.CreateIndex ?? idx, ModifyIndex: idx };
      services.set(key, service);
      if (old && (old.Service !== record.Service || old.Namespace !== record.Namespace)) store.touchService(old.Namespace, old.Service, idx, true);
      store.touchService(record.Namespace, record.Service, idx, true);
      return service;
    },
    removeService(node: string, id: string): boolean {
      const old = services.get(`${node}/${id}`);
      if (!old) return false;
      services.delete(`${node}/${id}`);
      for (const [key, check] of checks) if (check.Node === node && check.ServiceID === id) store.removeCheck(key);
      store.touchService(old.Namespace, old.Service, store.write(), true);
      return true;
    },
    putCheck(record: Omit<CheckRecord, "CreateIndex" | "ModifyIndex">, definition: CheckDefinition = {}): CheckRecord {
      const key = `${record.Node}/${record.CheckID}`;
      runner.stop(key);
      const idx = store.write();
      const check = { ...record, CreateIndex: checks.get(key)?.CreateIndex ?? idx, ModifyIndex: idx };
      checks.set(key, check);
      store.touchChecked(check, idx);
      runner.start(key, definition);
      return check;
    },
    removeCheck(key: string): void {
      const check = checks.get(key);
      if (!check) return;
      runner.stop(key);
      checks.delete(key);
      store.touchChecked(check, store.write());
    },
    /** a status or output change is a write; the same status and output again is not */
    setStatus(key: string, status: CheckStatus, output: string): boolean {
      const check = checks.get(key);
      if (!check) return false;
      if (check.Status === status && check.Output === output) return true;
      const idx = store.write();
      checks.set(key, { ...check, Status: status, Output: output, ModifyIndex: idx });
      store.touchChecked(check, idx);
      store.changed();
      return true;
    },
    /** a service check touches its service; a node check every service on the node */
    touchChecked(check: CheckRecord, idx: number): void {
      for (const s of services.values()) {
        if (s.Node === check.Node && (check.ServiceID === "" || s.ID === check.ServiceID)) store.touchService(s.Namespace, s.Service, idx, false);
      }
    },
    removeNode(name: string): void {
      for (const s of [...services.values()]) if (s.Node === name) store.removeService(name, s.ID);
      for (const [key, c] of [...checks]) if (c.Node === name) store.removeCheck(key);
      nodes.delete(name);
      store.write();
    },
    /** a raft snapshot restored from the past: indexes drop to `to`, blocked queries return at once */
    rewindIndex(to: number): void {
      index = to;
      servicesIndex = Math.min(servicesIndex, to);
      for (const [key, value] of perService) perService.set(key, Math.min(value, to));
      store.kv.rewind(to);
      store.changed(true);
    },
    ttlUpdate: (key: string, status: CheckStatus, output: string) => runner.ttlUpdate(key, status, output),
    close(): void {
      runner.stopAll();
    },
  };
  const runner: CheckRunner = createCheckRunner(store);
  store.upsertNode(nodeName, "127.0.0.1");
  store.putCheck({
    Node: nodeName, CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing", Notes: "",
    Output: "Agent alive and reachable", ServiceID: "", ServiceName: "", ServiceTags: [], Type: "", Namespace: "default",
  });
  return store;
}
