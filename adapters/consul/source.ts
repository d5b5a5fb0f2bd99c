// The Consul watch: one blocking query on /v1/catalog/services for the set of services, and one
// on /v1/health/service/<name>?passing per service for its healthy instances. It emits a whole
// snapshot once every service has answered, then after every change; the first failure of any
// query fails the whole watch, and registry-recover starts it over from a full read. Above
// endpointsOnDemandAbove services (counted at a run's first catalog answer) only the services a
// proxy uses are queried (issue 11 item 4): the others are in the snapshot without instances, each
// with use(), which starts its health query; a query idle for endpointIdleMs stops.
import { freezeSnapshot, type RegistrySource } from "../../runtime/model/registry.ts";
import type { Service } from "../../runtime/model/types.ts";
import { systemClock, type TimerHandle } from "../../runtime/lib/clock.ts";
import { tokenBucket, watchQuery } from "./blocking.ts";
import { ConsulError, consulClient, type ConsulClient, type ConsulRead } from "./client.ts";
import { kvResources, kvVersion, type KvRead } from "./kv-config.ts";
import type { RegistryResource } from "../../runtime/model/types.ts";
import { consulServices, type HealthEntry } from "./convert.ts";
import type { ConsulOptions } from "./options.ts";

interface ServiceWatch {
  controller: AbortController;
  /** undefined until its first answer */
  services?: Service[];
  /** the services as JSON, to skip answers that changed nothing (Consul wakes on idempotent writes) */
  key?: string;
  /** on demand: settles once a snapshot with its first answer is out (or after firstAnswerMs) */
  first?: Promise<void>;
  settle?: () => void;
  settled?: boolean;
}

/** the on-demand compile's size (model/compile.ts ON_DEMAND_ABOVE): below it a sidecar uses everything */
export const ENDPOINTS_ON_DEMAND_ABOVE = 200;

export function consulSource(options: ConsulOptions): RegistrySource {
  const clock = options.clock ?? systemClock;
  const waitMs = options.waitMs ?? 60_000;
  const rate = options.rateLimit ?? { burst: 2, intervalMs: 1000 };
  const client = consulClient({ ...options, clock });
  const convert = { datacenter: options.datacenter, namespace: options.namespace };
  let warnedAcl = false;
  const threshold = options.endpointsOnDemandAbove ?? ENDPOINTS_ON_DEMAND_ABOVE;
  const idleMs = options.endpointIdleMs ?? 600_000;
  // services in use → last use: outlives a run, so a restarted run queries them again
  const inUse = new Map<string, number>();
  // the on-demand run in service: starts a service's query, or says it is running
  let current: ((name: string) => Promise<void> | undefined) | undefined;
  const uses = new Map<string, () => Promise<void> | undefined>();
  const useOf = (name: string) => {
    let use = uses.get(name);
    if (!use) {
      use = () => {
        inUse.set(name, clock.now());
        return current?.(name);
      };
      uses.set(name, use);
    }
    return use;
  };
  const withUse = (name: string, services: Service[]) => services.map((svc) => Object.freeze({ ...svc, use: useOf(name) }));

  return (emit, signal) =>
    new Promise<void>((resolve, reject) => {
      const run = new AbortController();
      const watches = new Map<string, ServiceWatch>();
      let names: string | undefined;
      // with ?kv=, Istio config from KV is part of every snapshot, and waited for like a service
      let kv: { version: string; resources: RegistryResource[] } | undefined;
      // on demand: the catalog's names, and the instance-less Services of those not queried
      let onDemand = false;
      let catalog: string[] = [];
      let inCatalog = new Set<string>();
      const bare = new Map<string, Service[]>();
      let sweeper: TimerHandle | undefined;

      const finish = (error?: unknown) => {
        if (run.signal.aborted) return;
        run.abort();
        if (sweeper !== undefined) clock.clearTimeout(sweeper);
        if (current === use) current = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      signal.addEventListener("abort", () => finish(), { once: true });
      if (signal.aborted) return finish();

      const noteAcl = (read: ConsulRead<unknown>) => {
        if (!read.filteredByAcls || warnedAcl) return;
        warnedAcl = true;
        options.log?.("consul: some results are hidden by ACLs; the token needs service:read and node:read");
      };

      const publish = () => {
        if (names === undefined) return;
        if (options.kvPrefix !== undefined && !kv) return;
        const all: [string, Service][] = [];
        if (onDemand) {
          for (const name of catalog) {
            let services = watches.get(name)?.services;
            if (!services) {
              services = bare.get(name) ?? withUse(name, consulServices(name, [], convert));
              bare.set(name, services);
            }
            for (const service of services) all.push([service.hostname, service]);
          }
          emit(freezeSnapshot(all, kv?.resources));
          for (const watch of watches.values()) if (watch.services) watch.settle?.();
          return;
        }
        for (const watch of watches.values()) {
          if (!watch.services) return; // not synced yet: never emit a partial picture
          for (const service of watch.services) all.push([service.hostname, service]);
        }
        emit(freezeSnapshot(all, kv?.resources));
      };

      function use(name: string): Promise<void> | undefined {
        if (!inCatalog.has(name)) return undefined;
        const watch = watches.get(name) ?? watchService(name);
        return watch.settled ? undefined : watch.first;
      }
      /** queries of services idle for idleMs stop; they stay in the snapshot without instances */
      const sweep = () => {
        sweeper = clock.setTimeout(sweep, Math.max(1000, idleMs / 4));
        let dropped = false;
        for (const [name, watch] of watches) {
          if (clock.now() - (inUse.get(name) ?? 0) <= idleMs) continue;
          inUse.delete(name);
          watch.controller.abort();
          watch.settle?.();
          watches.delete(name);
          dropped = true;
        }
        if (dropped) publish();
      };

      const watchService = (name: string): ServiceWatch => {
        const watch: ServiceWatch = { controller: new AbortController() };
        run.signal.addEventListener("abort", () => watch.controller.abort(), { once: true });
        watches.set(name, watch);
        if (onDemand) {
          let resolve!: () => void;
          watch.first = new Promise<void>((r) => (resolve = r));
          // the bound: a slow agent delays a first request by at most this
          const bound = clock.setTimeout(() => watch.settle!(), options.firstAnswerMs ?? 5000);
          watch.settle = () => {
            if (watch.settled) return;
            watch.settled = true;
            clock.clearTimeout(bound);
            resolve();
          };
        }
        watchQuery<HealthEntry[] | null>({
          client,
          path: `/v1/health/service/${encodeURIComponent(name)}`,
          query: { passing: "1" },
          waitMs,
          bucket: tokenBucket(rate.burst, rate.intervalMs, clock),
          signal: watch.controller.signal,
          onResult: (read) => {
            noteAcl(read);
            const services = consulServices(name, read.body ?? [], convert);
            const key = JSON.stringify(services);
            if (key === watch.key) return;
            watch.services = onDemand ? withUse(name, services) : services;
            watch.key = key;
            publish();
          },
        }).then(() => undefined, finish);
        return watch;
      };

      if (options.kvPrefix !== undefined) {
        // an empty prefix is a 404 in Consul, which is no config rather than a failure
        const kvClient: ConsulClient = {
          ...client,
          get: <T>(path: string, query: Record<string, string>, s: AbortSignal, timeoutMs: number) =>
            client.get<T>(path, query, s, timeoutMs).catch((error) => {
              if (error instanceof ConsulError && error.status === 404) return { body: [] as unknown as T, index: undefined, filteredByAcls: false };
              throw error;
            }),
        };
        watchQuery<KvRead[] | null>({
          client: kvClient,
          path: `/v1/kv/${options.kvPrefix.split("/").map(encodeURIComponent).join("/")}`,
          query: { recurse: "true" },
          waitMs,
          bucket: tokenBucket(rate.burst, rate.intervalMs, clock),
          signal: run.signal,
          onResult: (read) => {
            const entries = read.body ?? [];
            const version = kvVersion(entries);
            if (kv && version === kv.version) return;
            kv = { version, resources: kvResources(entries, options.log) };
            publish();
          },
        }).then(() => undefined, finish);
      }

      watchQuery<Record<string, string[]> | null>({
        client,
        path: "/v1/catalog/services",
        waitMs,
        bucket: tokenBucket(rate.burst, rate.intervalMs, clock),
        signal: run.signal,
        onResult: (read) => {
          noteAcl(read);
          const next = Object.keys(read.body ?? {}).sort();
          const key = next.join("\n");
          if (key === names) return;
          if (names === undefined && next.length > threshold) {
            // the first answer decides: query only what is used (those used before this run at once)
            onDemand = true;
            current = use;
            for (const name of next) if (inUse.has(name)) watchService(name);
            sweep();
          }
          catalog = next;
          const wanted = (inCatalog = new Set(next));
          for (const [name, watch] of watches) {
            if (wanted.has(name)) continue;
            watch.controller.abort(); // dropped from the catalog: gone from the snapshot too
            watch.settle?.();
            watches.delete(name);
          }
          for (const name of bare.keys()) if (!wanted.has(name)) bare.delete(name);
          if (!onDemand) for (const name of next) if (!watches.has(name)) watchService(name);
          names = key;
          publish();
        },
      }).then(() => finish(), finish);
    });
}
