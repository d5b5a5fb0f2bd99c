// The Consul watch: one blocking query on /v1/catalog/services for the set of services, and one
// on /v1/health/service/<name>?passing per service for its healthy instances. It emits a whole
// snapshot once every service has answered, then after every change; the first failure of any
// query fails the whole watch, and registry-recover starts it over from a full read.
import { freezeSnapshot, type RegistrySource } from "../../runtime/model/registry.ts";
import type { Service } from "../../runtime/model/types.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
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
}

export function consulSource(options: ConsulOptions): RegistrySource {
  const clock = options.clock ?? systemClock;
  const waitMs = options.waitMs ?? 60_000;
  const rate = options.rateLimit ?? { burst: 2, intervalMs: 1000 };
  const client = consulClient({ ...options, clock });
  const convert = { datacenter: options.datacenter, namespace: options.namespace };
  let warnedAcl = false;

  return (emit, signal) =>
    new Promise<void>((resolve, reject) => {
      const run = new AbortController();
      const watches = new Map<string, ServiceWatch>();
      let names: string | undefined;
      // with ?kv=, Istio config from KV is part of every snapshot, and waited for like a service
      let kv: { version: string; resources: RegistryResource[] } | undefined;

      const finish = (error?: unknown) => {
        if (run.signal.aborted) return;
        run.abort();
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
        for (const watch of watches.values()) {
          if (!watch.services) return; // not synced yet: never emit a partial picture
          for (const service of watch.services) all.push([service.hostname, service]);
        }
        emit(freezeSnapshot(all, kv?.resources));
      };

      const watchService = (name: string) => {
        const watch: ServiceWatch = { controller: new AbortController() };
        run.signal.addEventListener("abort", () => watch.controller.abort(), { once: true });
        watches.set(name, watch);
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
            watch.services = services;
            watch.key = key;
            publish();
          },
        }).then(() => undefined, finish);
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
          const wanted = new Set(next);
          for (const [name, watch] of watches) {
            if (wanted.has(name)) continue;
            watch.controller.abort(); // dropped from the catalog: gone from the snapshot too
            watches.delete(name);
          }
          for (const name of next) if (!watches.has(name)) watchService(name);
          names = key;
          publish();
        },
      }).then(() => finish(), finish);
    });
}
