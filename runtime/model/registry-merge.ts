// Several registries at once (static files beside Consul, say) seen as one.
//
// The conflict rule: a host name belongs to the first registry in the list that has it; that
// registry's Service is taken whole and the others' Services for the same host are ignored
// (shadowed). Endpoints are never mixed across registries: two sources disagreeing about one
// host would otherwise give a set of endpoints neither of them described, with labels, ports
// and identities that need not agree. List the registry you trust most first.
import type { Registry } from "./registry.ts";
import { freezeSnapshot } from "./registry.ts";
import type { RegistrySnapshot, Service } from "./types.ts";

export interface Shadowed {
  host: string;
  /** the registry whose Service is used */
  winner: string;
  /** the registry whose Service for the same host is ignored */
  loser: string;
}

export interface MergeResult {
  snapshot: RegistrySnapshot;
  shadowed: Shadowed[];
}

/** merges in list order; parts not yet synced are left out by passing no snapshot */
export function mergeSnapshots(parts: readonly { name: string; snapshot?: RegistrySnapshot }[]): MergeResult {
  const services = new Map<string, Service>();
  const owner = new Map<string, string>();
  const shadowed: Shadowed[] = [];
  // config resources are concatenated in list order; one member's array passes through as is, so
  // a consumer can tell "unchanged" by identity
  const withResources = parts.filter((p) => p.snapshot?.resources?.length);
  const resources = withResources.length <= 1 ? withResources[0]?.snapshot?.resources : withResources.flatMap((p) => p.snapshot!.resources!);
  for (const { name, snapshot } of parts) {
    if (!snapshot) continue;
    for (const [host, service] of snapshot.services) {
      const winner = owner.get(host);
      if (winner !== undefined) {
        shadowed.push({ host, winner, loser: name });
        continue;
      }
      owner.set(host, name);
      services.set(host, service);
    }
  }
  return { snapshot: freezeSnapshot(services, resources), shadowed };
}

export interface MergeOptions {
  /** told when the set of shadowed hosts changes (not on every update) */
  log?: (message: string) => void;
}

/**
 * One Registry over several. Every update of any member gives a new merged snapshot built from
 * each member's latest one (members that have not synced yet contribute nothing); synced() is
 * true once every member has synced. A consumer that must not start on a partial picture waits
 * for synced() (with a deadline of its own, as Envoy's initial_fetch_timeout).
 */
export function mergeRegistries(registries: readonly Registry[], options: MergeOptions = {}): Registry {
  if (registries.length === 1) return registries[0];
  const latest: (RegistrySnapshot | undefined)[] = registries.map(() => undefined);
  let lastShadowed = "";
  let running = false;
  return {
    name: registries.map((r) => r.name).join("+"),
    start(onUpdate) {
      running = true;
      registries.forEach((registry, i) => {
        registry.start((snapshot) => {
          if (!running) return;
          latest[i] = snapshot;
          const merged = mergeSnapshots(registries.map((r, j) => ({ name: r.name, snapshot: latest[j] })));
          const shadowed = merged.shadowed.map((s) => `${s.host} (${s.winner} over ${s.loser})`).join(", ");
          if (shadowed !== lastShadowed) {
            lastShadowed = shadowed;
            options.log?.(shadowed ? `registries disagree, first listed wins: ${shadowed}` : "registries no longer disagree on any host");
          }
          onUpdate(merged.snapshot);
        });
      });
    },
    stop() {
      running = false;
      for (const registry of registries) registry.stop();
    },
    synced: () => registries.every((r) => r.synced()),
  };
}
