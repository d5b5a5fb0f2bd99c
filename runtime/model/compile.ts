// compile(config, registry snapshot, proxy) → RouteTable. Runs off the request path on every
// config or discovery change; the result is immutable and replaces the old table whole.
import type { Gateway, HTTPRoute, MeshConfig, VirtualService } from "../config/types.ts";
import type { Cluster, ForwardAction, Route, RouteConfig, RouteTable, VirtualHost } from "./route-table.ts";
import type { RegistrySnapshot, Service } from "./types.ts";
import { indexDestinationRules, byCreation, type DestinationRuleIndex } from "./destination-rules.ts";
import { buildCluster } from "./clusters.ts";
import { expandHost, hostAliases, hostMatches, normalizeHost, serverHostNames, serverHostsFor } from "./hosts.ts";
import { compileHttpRoute, type RouteContext } from "./compile-route.ts";
import type { ProxySelector } from "../routing/match.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { compileRetryPolicy } from "../resilience/retry-policy.ts";
import { compileRedirect } from "../routing/redirect.ts";
import { onDemandRouteConfig } from "./on-demand.ts";
import { compileGatewayTcp, compileMeshTcp, isL4Server, type TcpPortRoutes } from "./compile-tcp.ts";
import { sidecarFor, sidecarScope, type OutboundTrafficPolicy } from "./sidecar-scope.ts";
import { unknownHostRoute } from "./unknown-host.ts";

/** Istio's default retry policy, for routes no VirtualService describes */
const defaultRetry = compileRetryPolicy(undefined);

export interface ProxyIdentity {
  kind: "sidecar" | "gateway";
  namespace: string;
  labels: Record<string, string>;
  /** a sidecar's --outbound-traffic-policy: the mesh default where no Sidecar sets one (CompileOptions says more) */
  outboundTrafficPolicy?: OutboundTrafficPolicy;
}

export interface CompileOptions {
  random: () => number;
  version: number;
  /**
   * a sidecar compiles its outbound hosts on first use when the mesh has more services than this
   * (model/on-demand.ts; default ON_DEMAND_ABOVE); at or below it, everything at once as before
   */
  onDemandAbove?: number;
  /** the table in service: hosts it compiled on demand are carried over (shared when unchanged) */
  previous?: RouteTable;
  /** on demand: at most this many compiled hosts (default 1,000), least recently used out first */
  onDemandLimit?: number;
  /** on demand: a host idle this long is not carried into the next table (default 10 min) */
  onDemandIdleMs?: number;
  /**
   * the mesh default for a host the outbound side does not know, where no Sidecar sets
   * outboundTrafficPolicy (Istio's meshConfig.outboundTrafficPolicy, --outbound-traffic-policy);
   * unset: 404 NR (dietmesh's behaviour before Sidecar support)
   */
  outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** Istio's meshConfig.rootNamespace: its selector-less Sidecar applies mesh-wide (default istio-system) */
  rootNamespace?: string;
}

/** meshes larger than this compile a sidecar's outbound hosts on first use (issue 11) */
export const ON_DEMAND_ABOVE = 200;

/** Gateways whose selector the proxy's labels satisfy, as "ns/name". */
export function gatewaysFor(config: MeshConfig, proxy: ProxyIdentity): Gateway[] {
  if (proxy.kind !== "gateway") return [];
  return config.gateways.filter((g) =>
    Object.entries(g.spec.selector).every(([k, v]) => proxy.labels[k] === v),
  );
}

/** a VirtualService's gateways list in "ns/name" form; omitted means the mesh */
export function vsGateways(vs: VirtualService): string[] {
  const list = vs.spec.gateways?.length ? vs.spec.gateways : ["mesh"];
  return list.map((g) => (g === "mesh" || g.includes("/") ? g : `${vs.metadata.namespace}/${g}`));
}

class ClusterCache {
  readonly all = new Map<string, Cluster>();
  constructor(
    private readonly snapshot: RegistrySnapshot,
    private readonly rules: DestinationRuleIndex,
    private readonly random: () => number,
  ) {}

  /** the cluster for a destination; unknown hosts get an empty cluster (requests answer 503 UH) */
  get(hostname: string, portNumber: number | undefined, subset: string | undefined): Cluster {
    const service = this.snapshot.services.get(hostname) ?? placeholderService(hostname, portNumber);
    const port = service.ports.find((p) => p.number === portNumber) ?? service.ports[0] ?? { name: "http", number: portNumber ?? 80, protocol: "HTTP" };
    const key = `outbound|${port.number}|${subset ?? ""}|${service.hostname}`;
    let cluster = this.all.get(key);
    if (!cluster) {
      cluster = buildCluster(service, port, subset, this.rules.find(service.hostname), this.random);
      this.all.set(key, cluster);
    }
    return cluster;
  }
}

function placeholderService(hostname: string, port: number | undefined): Service {
  return {
    hostname,
    namespace: "",
    ports: [{ name: "http", number: port ?? 80, protocol: "HTTP" }],
    endpoints: [],
    location: "MESH_EXTERNAL",
    resolution: "NONE",
    source: "unknown",
  };
}

function buildRoutes(vs: VirtualService, selector: ProxySelector, ctx: RouteContext): Route[] {
  const routes: Route[] = [];
  vs.spec.http.forEach((http: HTTPRoute, index: number) => {
    routes.push(...compileHttpRoute(vs, http, index, selector, ctx));
  });
  return routes;
}

/** catch-all routes (no match) go last when several VirtualServices merge on one host */
function mergeRoutes(lists: { vs: VirtualService; routes: Route[] }[]): Route[] {
  if (lists.length === 1) return lists[0].routes;
  const all = lists.flatMap((l) => l.routes);
  return [...all.filter((r) => !r.catchAll), ...all.filter((r) => r.catchAll)];
}

function toRouteConfig(hosts: Map<string, VirtualHost>): RouteConfig {
  const exact = new Map<string, VirtualHost>();
  const wildcards: { suffix: string; host: VirtualHost }[] = [];
  for (const vhost of hosts.values()) {
    for (const domain of vhost.domains) {
      if (domain === "*") wildcards.push({ suffix: "", host: vhost });
      else if (domain.startsWith("*")) wildcards.push({ suffix: domain.slice(1), host: vhost });
      else if (!exact.has(domain)) exact.set(domain, vhost);
    }
  }
  wildcards.sort((a, b) => (a.suffix === "" ? 1 : b.suffix === "" ? -1 : b.suffix.length - a.suffix.length));
  return { exact, wildcards };
}

function compileOutbound(config: MeshConfig, snapshot: RegistrySnapshot, proxy: ProxyIdentity, ctx: RouteContext): RouteConfig {
  const selector = (vs: VirtualService): ProxySelector => ({
    gateways: new Set(["mesh"]),
    defaultGateways: vsGateways(vs),
    labels: proxy.labels,
    namespace: proxy.namespace,
    vsNamespace: vs.metadata.namespace,
  });
  const vhosts = new Map<string, VirtualHost>();
  // Istio: for sidecars the oldest VirtualService for a host wins; later ones are ignored.
  const claimed = new Set<string>();
  for (const vs of [...config.virtualServices].sort(byCreation)) {
    const routes = buildRoutes(vs, selector(vs), ctx);
    if (!routes.length) continue;
    for (const raw of vs.spec.hosts) {
      const host = expandHost(raw, vs.metadata.namespace);
      if (claimed.has(host)) continue;
      claimed.add(host);
      const domains = snapshot.services.has(host) ? serviceDomains(snapshot, host, proxy.namespace) : [host];
      vhosts.set(host, { name: `${host}`, domains, routes });
    }
  }
  for (const service of snapshot.services.values()) {
    if (claimed.has(service.hostname)) continue;
    vhosts.set(service.hostname, {
      name: service.hostname,
      domains: serviceDomains(snapshot, service.hostname, proxy.namespace),
      routes: defaultRoutes(service, ctx),
    });
  }
  return toRouteConfig(vhosts);
}

/** the names a client may call a service by: its host's aliases, then its ServiceEntry addresses (Istio's VIPs) */
function serviceDomains(snapshot: RegistrySnapshot, host: string, clientNamespace: string): string[] {
  const aliases = hostAliases(host, clientNamespace);
  const addresses = snapshot.services.get(host)?.addresses;
  return addresses ? [...aliases, ...addresses] : aliases;
}

/**
 * The same outbound routes as compileOutbound, compiled per host on first use: only the index of
 * which VirtualServices name which host is built here (on-demand.ts compiles the rest).
 */
function onDemandOutbound(config: MeshConfig, snapshot: RegistrySnapshot, proxy: ProxyIdentity, ctx: RouteContext, parts: OnDemandParts): RouteConfig {
  const candidates = new Map<string, { vss: VirtualService[]; domains: string[] }>();
  for (const vs of [...config.virtualServices].sort(byCreation)) {
    for (const raw of vs.spec.hosts) {
      const host = expandHost(raw, vs.metadata.namespace);
      const entry = candidates.get(host) ?? { vss: [], domains: snapshot.services.has(host) ? serviceDomains(snapshot, host, proxy.namespace) : [host] };
      if (!entry.vss.includes(vs)) entry.vss.push(vs);
      candidates.set(host, entry);
    }
  }
  // a VirtualService naming several hosts compiles once per table, not once per host
  const routes = new Map<VirtualService, Route[]>();
  const routesOf = (vs: VirtualService) => {
    let list = routes.get(vs);
    if (!list) {
      list = buildRoutes(vs, { gateways: new Set(["mesh"]), defaultGateways: vsGateways(vs), labels: proxy.labels, namespace: proxy.namespace, vsNamespace: vs.metadata.namespace }, ctx);
      routes.set(vs, list);
    }
    return list;
  };
  return onDemandRouteConfig({
    snapshot,
    rules: parts.rules,
    candidates,
    routesOf,
    defaultRoutes: (service) => defaultRoutes(service, ctx),
    aliases: (host) => serviceDomains(snapshot, host, proxy.namespace),
    clusters: parts.clusters,
    track: parts.track,
    limit: parts.limit,
    idleMs: parts.idleMs,
    now: Date.now,
  }, parts.previous?.outbound);
}

interface OnDemandParts {
  rules: DestinationRuleIndex;
  clusters: Map<string, Cluster>;
  track(onCluster: ((cluster: Cluster) => void) | undefined): void;
  previous?: RouteTable;
  limit: number;
  idleMs: number;
}

/** a service without a VirtualService: one route per port, chosen by the request's port */
function defaultRoutes(service: Service, ctx: RouteContext): Route[] {
  // no closure made here may see ctx: a route outlives its table when carried to the next one
  // (on-demand.ts), and ctx leads to the table's whole registry snapshot (docs/performance.md)
  const routes: Route[] = [];
  for (const port of service.ports) {
    routes.push({ name: `default|${port.number}|${service.hostname}`, matches: portIs(port.number), catchAll: false, action: forwardTo(ctx.clusters(service.hostname, port.number, undefined)) });
  }
  if (service.ports[0]) {
    routes.push({ name: `default|*|${service.hostname}`, matches: always, catchAll: true, action: forwardTo(ctx.clusters(service.hostname, service.ports[0].number, undefined)) });
  }
  return routes;
}

// Module-level, so that the closures they return hold only their arguments. A closure made inside
// compile() would keep compile's scope, and with it the ClusterCache and the registry snapshot, for
// as long as the route lives.
function forwardTo(cluster: Cluster): ForwardAction {
  return { kind: "forward", pick: () => ({ cluster }), targets: [{ cluster }], mirrors: [], retry: defaultRetry };
}
const portIs = (port: number) => (facts: RequestFacts) => facts.port === port;
const always = () => true;

function compileGateway(config: MeshConfig, proxy: ProxyIdentity, ctx: RouteContext): Map<number, RouteConfig> {
  const gateways = gatewaysFor(config, proxy);
  const names = new Set(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
  const byPort = new Map<number, Map<string, { vs: VirtualService; routes: Route[] }[]>>();
  /** port → hosts of servers with tls.httpsRedirect: every request to them is sent to https */
  const redirects = new Map<number, Set<string>>();
  const vss = [...config.virtualServices].sort(byCreation);
  for (const gateway of gateways) {
    const gwName = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    for (const server of gateway.spec.servers) {
      if (isL4Server(server)) continue; // a byte-stream port (TCP, TLS passthrough): compile-tcp.ts
      const perHost = byPort.get(server.port.number) ?? new Map();
      byPort.set(server.port.number, perHost);
      const serverHosts = serverHostNames(server.hosts);
      if ((server.tls as { httpsRedirect?: boolean } | undefined)?.httpsRedirect === true) {
        const set = redirects.get(server.port.number) ?? new Set<string>();
        for (const host of serverHosts) set.add(host);
        redirects.set(server.port.number, set);
      }
      for (const vs of vss) {
        if (!vsGateways(vs).includes(gwName) && !vs.spec.http.some((r) => r.match?.some((m) => m.gateways?.includes(gwName)))) continue;
        const routes = buildRoutes(vs, { gateways: names, defaultGateways: vsGateways(vs), labels: proxy.labels, namespace: proxy.namespace, vsNamespace: vs.metadata.namespace }, ctx);
        if (!routes.length) continue;
        const bindable = serverHostsFor(server.hosts, gateway.metadata.namespace, vs.metadata.namespace);
        for (const raw of vs.spec.hosts) {
          const host = normalizeHost(raw);
          if (!bindable.some((s) => hostMatches(s, host) || hostMatches(host, s))) continue;
          const list = perHost.get(host) ?? [];
          if (!list.some((e: { vs: VirtualService }) => e.vs === vs)) list.push({ vs, routes });
          perHost.set(host, list);
        }
      }
    }
  }
  const out = new Map<number, RouteConfig>();
  for (const [port, perHost] of byPort) {
    const vhosts = new Map<string, VirtualHost>();
    for (const [host, lists] of perHost) vhosts.set(host, { name: host, domains: [host], routes: mergeRoutes(lists) });
    // Envoy's require_tls on the virtual host: a 301 to the https URL, whatever the routes say
    for (const host of redirects.get(port) ?? []) vhosts.set(host, { name: host, domains: [host], routes: [httpsRedirectRoute(host)] });
    out.set(port, toRouteConfig(vhosts));
  }
  return out;
}

const toHttps = compileRedirect({ scheme: "https" });

function httpsRedirectRoute(host: string): Route {
  return { name: `https-redirect|${host}`, matches: () => true, catchAll: true, action: { kind: "respond", respond: toHttps } };
}

export function compile(config: MeshConfig, snapshot: RegistrySnapshot, proxy: ProxyIdentity, options: CompileOptions): RouteTable {
  const full = { config, snapshot };
  // a sidecar's outbound side sees only what its Sidecar resource lets in (sidecar-scope.ts)
  const sidecar = proxy.kind === "sidecar" ? sidecarFor(config.sidecars, proxy, options.rootNamespace) : undefined;
  const scope = sidecar && sidecarScope(sidecar, proxy);
  const cut = scope?.cut(config, snapshot);
  if (cut) ({ config, snapshot } = cut);
  const rules = indexDestinationRules(config.destinationRules, proxy);
  const clusters = new ClusterCache(snapshot, rules, options.random);
  let track: ((cluster: Cluster) => void) | undefined;
  const ctx: RouteContext = {
    random: options.random,
    clusters: (host, port, subset) => {
      const cluster = clusters.get(host, port, subset);
      track?.(cluster);
      return cluster;
    },
    forwardTo,
  };
  const onDemand = proxy.kind === "sidecar" && snapshot.services.size > (options.onDemandAbove ?? ON_DEMAND_ABOVE);
  // every service port gets its default cluster, so /clusters shows what discovery knows (on
  // demand: what the sidecar has called, /config_dump says so)
  if (!onDemand) for (const service of snapshot.services.values()) for (const port of service.ports) clusters.get(service.hostname, port.number, undefined);
  const parts: OnDemandParts = { rules, clusters: clusters.all, track: (t) => void (track = t), previous: options.previous, limit: options.onDemandLimit ?? 1000, idleMs: options.onDemandIdleMs ?? 600_000 };
  let outbound = proxy.kind !== "sidecar" ? toRouteConfig(new Map()) : onDemand ? onDemandOutbound(config, snapshot, proxy, ctx, parts) : compileOutbound(config, snapshot, proxy, ctx);
  if (proxy.kind === "sidecar") {
    const policy = scope?.outboundTrafficPolicy ?? options.outboundTrafficPolicy ?? proxy.outboundTrafficPolicy;
    outbound = {
      ...outbound,
      unknownHost: unknownHostRoute(policy, ctx.forwardTo, options.random),
      scope: {
        sidecar: sidecar && `${sidecar.metadata.namespace}/${sidecar.metadata.name}`,
        hosts: scope?.hosts ?? ["*/*"],
        outboundTrafficPolicy: policy,
        services: { inScope: snapshot.services.size, total: full.snapshot.services.size },
        virtualServices: { inScope: config.virtualServices.length, total: full.config.virtualServices.length },
      },
    };
  }
  const gatewayPorts = proxy.kind === "gateway" ? compileGateway(config, proxy, ctx) : new Map<number, RouteConfig>();
  const gatewayTcp = proxy.kind === "gateway" ? compileGatewayTcp(config, proxy, ctx, snapshot) : new Map<number, TcpPortRoutes>();
  const meshTcp = proxy.kind === "sidecar" ? compileMeshTcp(config, snapshot, proxy, ctx) : new Map<string, TcpPortRoutes>();
  return Object.freeze({
    version: options.version,
    builtAt: new Date().toISOString(),
    config: full.config,
    snapshot: full.snapshot,
    clusters: clusters.all,
    outbound,
    gatewayPorts,
    gatewayTcp,
    meshTcp,
  });
}
