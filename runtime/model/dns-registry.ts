// DNS resolution of ServiceEntries, as Envoy's DNS clusters do it, wrapped around any Registry:
// every endpoint of a `resolution: DNS` or `DNS_ROUND_ROBIN` service that is a name (the host
// itself when the entry lists no endpoints), and the host of a `resolution: NONE` entry without
// endpoints (adapters/static/from-config.ts), is resolved, and the snapshot passed on carries the
// addresses instead of the name.
//   DNS (Envoy STRICT_DNS): each address becomes an endpoint of its own (balanced, outlier-detected,
//     pooled apart), with the name's ports, labels and weight.
//   DNS_ROUND_ROBIN (Envoy LOGICAL_DNS): one endpoint, at the first address of the latest answer;
//     new connections go there, open ones are left alone.
//   NONE: as DNS_ROUND_ROBIN. Istio passes the connection to the address the app resolved; here the
//     proxy resolves the request's authority itself, as Envoy's dynamic forward proxy does.
// A name is asked again when its answer's TTL runs out, kept between MIN_REFRESH_MS and
// MAX_REFRESH_MS (NO_TTL_REFRESH_MS when the resolver gives no TTL: the system resolver). A failed
// question keeps the last good addresses and is retried after FAILURE_BACKOFF_MS, doubling up to
// MAX_BACKOFF_MS. Until a name has its first answer it stays a name (the OS resolves it at connect,
// as before), so a resolver that is down never leaves a service with fewer endpoints than it had.
// The timers run on the injected Clock; a new snapshot goes out only when some answer changed.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Registry } from "./registry.ts";
import { freezeSnapshot } from "./registry.ts";
import type { Endpoint, RegistrySnapshot, Service } from "./types.ts";

export interface DnsAnswer {
  addresses: string[];
  ttl?: number;
}

export const MIN_REFRESH_MS = 1_000;
export const MAX_REFRESH_MS = 300_000;
/** Envoy's dns_refresh_rate default */
export const NO_TTL_REFRESH_MS = 5_000;
export const FAILURE_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 30_000;

export interface DnsRegistryOptions {
  resolve: (name: string) => Promise<DnsAnswer>;
  clock: Clock;
  log?: (message: string) => void;
}

/** what /config_dump shows of a name */
export interface ResolvedName {
  name: string;
  addresses: readonly string[];
  ttlSeconds?: number;
  failures: number;
}

export interface DnsRegistry extends Registry {
  names(): ResolvedName[];
}

interface NameState {
  name: string;
  addresses?: readonly string[];
  ttl?: number;
  failures: number;
  attempted: boolean;
  timer?: TimerHandle;
  removed: boolean;
}

export function dnsRegistry(inner: Registry, options: DnsRegistryOptions): DnsRegistry {
  const { clock, resolve } = options;
  const names = new Map<string, NameState>();
  let latest: RegistrySnapshot | undefined;
  let listener: ((snapshot: RegistrySnapshot) => void) | undefined;
  // per host: the inner service and the addresses it was expanded with, so unchanged services stay the same objects
  let expanded = new Map<string, { from: Service; key: string; out: Service }>();

  function publish() {
    if (!latest || !listener) return;
    const next = new Map<string, { from: Service; key: string; out: Service }>();
    const services: [string, Service][] = [];
    for (const [host, service] of latest.services) {
      if (!hasNames(service)) {
        services.push([host, service]);
        continue;
      }
      const key = service.endpoints.map((e) => (resolves(service, e.address) ? `${e.address}=${names.get(e.address)?.addresses?.join(",") ?? ""}` : e.address)).join(";");
      const before = expanded.get(host);
      const out = before && before.from === service && before.key === key ? before.out : Object.freeze({ ...service, endpoints: service.endpoints.flatMap((e) => expand(service, e)) });
      next.set(host, { from: service, key, out });
      services.push([host, out]);
    }
    expanded = next;
    listener(latest.resources ? freezeSnapshot(services, latest.resources) : freezeSnapshot(services));
  }

  function expand(service: Service, endpoint: Endpoint): Endpoint[] {
    const addresses = resolves(service, endpoint.address) ? names.get(endpoint.address)?.addresses : undefined;
    if (!addresses?.length) return [endpoint];
    const chosen = service.resolution === "DNS" ? addresses : addresses.slice(0, 1);
    return chosen.map((address) => Object.freeze({ ...endpoint, address }));
  }

  function track(snapshot: RegistrySnapshot) {
    const wanted = new Set<string>();
    for (const service of snapshot.services.values()) {
      if (!hasNames(service)) continue;
      for (const e of service.endpoints) if (resolves(service, e.address)) wanted.add(e.address);
    }
    for (const [name, state] of names) {
      if (wanted.has(name)) continue;
      state.removed = true;
      if (state.timer) clock.clearTimeout(state.timer);
      names.delete(name);
    }
    for (const name of wanted) {
      if (names.has(name)) continue;
      const state: NameState = { name, failures: 0, attempted: false, removed: false };
      names.set(name, state);
      void ask(state);
    }
  }

  async function ask(state: NameState) {
    state.timer = undefined;
    let answer: DnsAnswer | undefined;
    let problem: unknown;
    try {
      answer = await resolve(state.name);
      if (answer.addresses.length === 0) throw new Error("no addresses");
    } catch (error) {
      problem = error;
    }
    if (state.removed) return;
    state.attempted = true;
    let changed = false;
    let delay: number;
    if (answer && problem === undefined) {
      state.failures = 0;
      state.ttl = answer.ttl;
      changed = state.addresses?.join(",") !== answer.addresses.join(",");
      state.addresses = [...answer.addresses];
      delay = refreshDelay(answer.ttl);
    } else {
      state.failures++;
      delay = failureDelay(state.failures);
      options.log?.(`dns: ${state.name} did not resolve (${problem instanceof Error ? problem.message : String(problem)}); ${state.addresses ? `keeping ${state.addresses.join(", ")}` : "no addresses yet"}, asking again in ${delay} ms`);
    }
    state.timer = clock.setTimeout(() => void ask(state), delay);
    if (changed) publish();
  }

  return {
    name: inner.name,
    start(onUpdate) {
      listener = onUpdate;
      inner.start((snapshot) => {
        latest = snapshot;
        track(snapshot);
        publish();
      });
    },
    stop() {
      listener = undefined;
      inner.stop();
      for (const state of names.values()) {
        state.removed = true;
        if (state.timer) clock.clearTimeout(state.timer);
      }
      names.clear();
    },
    synced: () => inner.synced() && [...names.values()].every((s) => s.attempted),
    names: () => [...names.values()].map((s) => ({ name: s.name, addresses: s.addresses ?? [], failures: s.failures, ...(s.ttl !== undefined ? { ttlSeconds: s.ttl } : {}) })),
  };
}

/** the TTL in ms, within [MIN_REFRESH_MS, MAX_REFRESH_MS]; NO_TTL_REFRESH_MS when unknown */
export function refreshDelay(ttlSeconds: number | undefined): number {
  if (ttlSeconds === undefined) return NO_TTL_REFRESH_MS;
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, ttlSeconds * 1000));
}

/** after the n-th failure in a row (n ≥ 1) */
export function failureDelay(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, FAILURE_BACKOFF_MS * 2 ** Math.min(failures - 1, 16));
}

/** whether some endpoint of the service may be a name this registry resolves (cheap: no endpoint scan) */
function hasNames(service: Service): boolean {
  if (service.resolution === "DNS" || service.resolution === "DNS_ROUND_ROBIN") return true;
  return service.resolution === "NONE" && service.endpoints.length === 1 && service.endpoints[0].address === service.hostname;
}

/** an endpoint address to resolve: a name of a DNS entry, or the host of a NONE entry without endpoints */
function resolves(service: Service, address: string): boolean {
  if (isIp(address)) return false;
  return service.resolution === "NONE" ? address === service.hostname : true;
}

function isIp(address: string): boolean {
  return address.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(address);
}
