// A sidecar's outbound routes compiled on first use (issue 11 item 2): a large mesh's table holds
// only an index from every host name a client may use to the host it stands for; a host's virtual
// host (its routes, and through them its clusters) is compiled the first time a request asks for
// it, kept while used (at most `limit` hosts, least recently used out first), and carried into the
// next table on a reload — shared as the same objects when nothing it was compiled from changed,
// compiled again otherwise — unless it has been idle for `idleMs`. A sidecar that talks to 5
// services holds 5 services' compiled state, whatever the size of the mesh.
import type { VirtualService } from "../config/types.ts";
import type { Cluster, OnDemand, Route, RouteConfig, VirtualHost } from "./route-table.ts";
import type { RegistrySnapshot, Service } from "./types.ts";
import type { DestinationRuleIndex } from "./destination-rules.ts";

/** what a compiled host was built from: reused as is while all of it is unchanged */
interface Compiled {
  vhost: VirtualHost;
  /** the VirtualServices tried for it, in order */
  vss: readonly VirtualService[];
  /** every cluster its routes send to, by name */
  clusters: Map<string, Cluster>;
  /** the DestinationRule (or null) each of those clusters' hosts had */
  rules: Map<string, unknown>;
  lastUsed: number;
  why: string;
}

export interface OnDemandInput {
  snapshot: RegistrySnapshot;
  rules: DestinationRuleIndex;
  /** host → VirtualServices naming it (creation order) and the names clients use for it */
  candidates: Map<string, { vss: VirtualService[]; domains: string[] }>;
  /** the routes of a VirtualService for this proxy (empty: it does not apply here) */
  routesOf(vs: VirtualService): Route[];
  defaultRoutes(service: Service): Route[];
  /** the names a client of this proxy may use for a service without a VirtualService */
  aliases(host: string): string[];
  /** the clusters the table has built, by name; compile adds to it while it runs */
  clusters: Map<string, Cluster>;
  /** the compile context's cluster lookups are reported here while a host compiles */
  track(onCluster: ((cluster: Cluster) => void) | undefined): void;
  limit: number;
  idleMs: number;
  now: () => number;
}

const sameService = (a: Service, b: Service | undefined) => a === b || (b !== undefined && JSON.stringify(a) === JSON.stringify(b));

/** `previous`: the outbound config of the table in service, read while this one is built and not kept */
export function onDemandRouteConfig(input: OnDemandInput, previous?: RouteConfig): RouteConfig {
  const byDomain = new Map<string, string>();
  const wildcards: { suffix: string; host: VirtualHost }[] = [];
  const cache = new Map<string, Compiled>();
  /** wildcard hosts: compiled with the table, as the suffix list must hold them */
  const fixed = new Map<string, Compiled>();
  // read while this table is built, then let go: a table must not keep the one before it alive
  let old = (previous?.onDemand as OnDemandState | undefined)?.cache;

  function build(host: string, why: string): Compiled | undefined {
    const candidate = input.candidates.get(host);
    const vss = candidate?.vss ?? [];
    const service = input.snapshot.services.get(host);
    const before = old?.get(host);
    if (before && reusable(before, vss)) {
      for (const [name, cluster] of before.clusters) if (!input.clusters.has(name)) input.clusters.set(name, cluster);
      return { ...before, why: `${why}; shared with the previous table` };
    }
    const clusters = new Map<string, Cluster>();
    const rules = new Map<string, unknown>();
    input.track((c) => {
      clusters.set(c.name, c);
      rules.set(c.service.hostname, input.rules.find(c.service.hostname) ?? null);
    });
    const done = (vhost: VirtualHost): Compiled => ({ vhost, vss, clusters, rules, lastUsed: input.now(), why });
    try {
      for (const vs of vss) {
        const routes = input.routesOf(vs);
        if (routes.length) return done({ name: host, domains: candidate!.domains, routes });
      }
      if (!service) return undefined;
      return done({ name: host, domains: candidate?.domains ?? input.aliases(host), routes: input.defaultRoutes(service) });
    } finally {
      input.track(undefined);
    }
  }

  /** the same VirtualServices, and every cluster's service and DestinationRule unchanged */
  function reusable(before: Compiled, vss: readonly VirtualService[]): boolean {
    if (before.vss.length !== vss.length || before.vss.some((vs, i) => vs !== vss[i])) return false;
    for (const cluster of before.clusters.values()) {
      const host = cluster.service.hostname;
      const now = input.snapshot.services.get(host);
      if (cluster.service.source !== "unknown" ? !sameService(cluster.service, now) : now !== undefined) return false;
      if (before.rules.get(host) !== (input.rules.find(host) ?? null)) return false;
    }
    return true;
  }

  // first name wins, in compile.ts's order: VirtualService hosts (oldest first), then services
  for (const [host, { domains }] of input.candidates) index(host, domains);
  for (const service of input.snapshot.services.values()) {
    if (!input.candidates.has(service.hostname)) index(service.hostname, input.aliases(service.hostname));
  }
  function index(host: string, domains: readonly string[]) {
    for (const domain of domains) {
      if (domain.startsWith("*")) {
        const compiled = fixed.get(host) ?? build(host, "a wildcard host: compiled with the table");
        if (!compiled) continue;
        fixed.set(host, compiled);
        wildcards.push({ suffix: domain === "*" ? "" : domain.slice(1), host: compiled.vhost });
      } else if (!byDomain.has(domain)) byDomain.set(domain, host);
    }
  }
  wildcards.sort((a, b) => (a.suffix === "" ? 1 : b.suffix === "" ? -1 : b.suffix.length - a.suffix.length));

  const lookup = (host: string, why: string): VirtualHost | undefined => {
    let compiled = cache.get(host);
    if (compiled) cache.delete(host); // re-inserted below: the Map's order is the LRU order
    else compiled = build(host, why);
    if (!compiled) return undefined;
    compiled.lastUsed = input.now();
    cache.set(host, compiled);
    if (cache.size > input.limit) cache.delete(cache.keys().next().value!);
    return compiled.vhost;
  };

  // hosts the previous table compiled and used lately come along (their cluster state stays)
  if (old) {
    for (const [host, before] of old) {
      if (input.now() - before.lastUsed > input.idleMs) continue;
      // the reason it was first compiled (build says again whether it is shared this time)
      const compiled = build(host, before.why.replace(/; shared with the previous table$/, ""));
      if (compiled) cache.set(host, { ...compiled, lastUsed: before.lastUsed });
    }
    old = undefined;
  }

  const exact = new OnDemandHosts(byDomain, (domain) => {
    const host = byDomain.get(domain);
    return host === undefined ? undefined : lookup(host, `first request for ${domain}`);
  }, cache);
  const state: OnDemandState = { cache, hosts: new Set(byDomain.values()).size, compiled: () => [...fixed, ...cache].map(([host, c]) => ({ host, why: c.why })) };
  return { exact, wildcards, onDemand: state };
}

interface OnDemandState extends OnDemand {
  cache: Map<string, Compiled>;
}

/**
 * The exact-name map of an on-demand route config: get() compiles; iteration shows only what is
 * compiled (each compiled host under the names that lead to it), never forcing the rest.
 */
class OnDemandHosts implements ReadonlyMap<string, VirtualHost> {
  constructor(
    private readonly byDomain: ReadonlyMap<string, string>,
    private readonly resolve: (domain: string) => VirtualHost | undefined,
    private readonly cache: ReadonlyMap<string, Compiled>,
  ) {}
  get(domain: string) {
    return this.resolve(domain);
  }
  has(domain: string) {
    return this.byDomain.has(domain);
  }
  get size() {
    return this.byDomain.size;
  }
  *entries(): MapIterator<[string, VirtualHost]> {
    for (const [host, { vhost }] of this.cache) for (const d of vhost.domains) if (this.byDomain.get(d) === host) yield [d, vhost];
  }
  *keys(): MapIterator<string> {
    for (const [d] of this.entries()) yield d;
  }
  *values(): MapIterator<VirtualHost> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  forEach(fn: (value: VirtualHost, key: string, map: ReadonlyMap<string, VirtualHost>) => void) {
    for (const [d, v] of this.entries()) fn(v, d, this);
  }
}
