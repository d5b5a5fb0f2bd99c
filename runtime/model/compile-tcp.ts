// The gateway's L4 routes: for each Gateway server port whose protocol is carried as a byte stream
// (TCP, and MONGO/REDIS/MYSQL, which Istio proxies as TCP without their filters), the VirtualService
// `tcp` routes bound to that gateway, compiled once per table into match predicates over the
// connection's addresses and a weighted pick over clusters. A connection takes the first route
// that matches, VirtualServices in creation order as for HTTP. A sidecar's outbound gets the same
// for each service port declared TCP (compileMeshTcp): the `tcp` routes bound to `mesh` for that
// host and port, else the port's own cluster (Envoy's default TCP route for a service port).
// TLS that is not terminated takes the same path with `tls` routes chosen by SNI (compile-tls.ts):
// gateway servers with tls.mode PASSTHROUGH / AUTO_PASSTHROUGH, and a sidecar's TLS/HTTPS ports.
import type { Destination, MeshConfig, VirtualService } from "../config/types.ts";
import type { RegistrySnapshot } from "./types.ts";
import type { Cluster } from "./route-table.ts";
import { gatewaysFor, vsGateways, type ProxyIdentity } from "./compile.ts";
import { expandHost, hostMatches, normalizeHost, serverHostNames, serverHostsFor } from "./hosts.ts";
import { byCreation } from "./destination-rules.ts";
import { compileWeighted } from "../routing/weighted.ts";
import { resolveGatewayName } from "../routing/match.ts";
import { autoPassthroughRoutes, compileVsTls, isTlsProtocol, sniCandidates } from "./compile-tls.ts";
import { ipInBlock, parseIp, parseIpBlock, type IpBlock } from "../security/policy/ip-block.ts";

/** Istio's protocols a gateway carries as plain TCP (no protocol filter for the last three) */
export const TCP_PROTOCOLS: ReadonlySet<string> = new Set(["TCP", "MONGO", "REDIS", "MYSQL"]);

export function isTcpProtocol(protocol: string): boolean {
  return TCP_PROTOCOLS.has(protocol.toUpperCase());
}

/** a Gateway server whose TLS is passed through by SNI, not terminated */
export function isPassthroughServer(server: { port: { protocol: string }; tls?: Record<string, unknown> }): boolean {
  const mode = server.tls?.mode;
  return (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") && isTlsProtocol(server.port.protocol);
}

/** a Gateway server carried as a byte stream (TCP family or TLS passthrough): never an HTTP listener */
export function isL4Server(server: { port: { protocol: string }; tls?: Record<string, unknown> }): boolean {
  return isTcpProtocol(server.port.protocol) || isPassthroughServer(server);
}

/** what a route can match a connection on */
export interface ConnectionFacts {
  /** the client's address */
  sourceIp: string;
  /** the address the client connected to (the gateway's own) */
  destinationIp: string;
  /** the server name of the TLS ClientHello, on ports routed by SNI */
  sni?: string;
  /** set by findTcpRoute while it tries a tls route: the sniHosts pattern the name matched */
  sniPattern?: string;
}

export interface TcpRoute {
  /** "<namespace>/<virtualservice>#tcp<index>" */
  readonly name: string;
  readonly matches: (facts: ConnectionFacts) => boolean;
  readonly pick: () => Cluster;
  readonly clusters: readonly Cluster[];
  /** a tls route: the server names it answers for (exact or "*.suffix"), most specific match wins */
  readonly sniHosts?: readonly string[];
  /** the client's own TLS goes through untouched: never wrapped in mesh mTLS or origination at a gateway */
  readonly passthrough?: boolean;
}

/** the routes of one gateway port, first match wins */
export interface TcpPortRoutes {
  readonly port: number;
  readonly routes: readonly TcpRoute[];
  /** read the ClientHello's SNI before routing (a passthrough port, or a sidecar TLS port with tls routes) */
  readonly sni?: boolean;
  /** AUTO_PASSTHROUGH: routes by Istio's cluster-name SNI, tried when no tls route matched */
  readonly auto?: ReadonlyMap<string, TcpRoute>;
}

/** the `tcp` block entries, which config/types.ts keeps as unknown[] (the schema has their shape) */
export interface TcpRouteSpec {
  match?: {
    destinationSubnets?: string[];
    port?: number;
    sourceLabels?: Record<string, string>;
    gateways?: string[];
    sourceNamespace?: string;
    sourceSubnet?: string;
  }[];
  route?: { destination: Destination; weight?: number }[];
}

export interface TcpCompileContext {
  random: () => number;
  clusters(host: string, port: number | undefined, subset: string | undefined): Cluster;
}

/**
 * gateway port → its TCP routes, for the ports where a Gateway selecting this proxy has a
 * TCP-family server, or a TLS passthrough one (`tls` routes by SNI; AUTO_PASSTHROUGH by the SNI's
 * cluster name, which needs the registry: snapshot)
 */
export function compileGatewayTcp(config: MeshConfig, proxy: ProxyIdentity, ctx: TcpCompileContext, snapshot?: RegistrySnapshot): Map<number, TcpPortRoutes> {
  const out = new Map<number, TcpPortRoutes>();
  const gateways = gatewaysFor(config, proxy);
  const names = new Set(gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
  const vss = [...config.virtualServices].filter((vs) => vs.spec.tcp?.length || vs.spec.tls?.length).sort(byCreation);
  const perPort = new Map<number, { routes: TcpRoute[]; seen: Set<VirtualService>; sni: boolean; autoHosts: string[] }>();
  for (const gateway of gateways) {
    const gwName = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    for (const server of gateway.spec.servers) {
      const passthrough = isPassthroughServer(server);
      if (!passthrough && !isTcpProtocol(server.port.protocol)) continue;
      const port = server.port.number;
      const entry = perPort.get(port) ?? { routes: [], seen: new Set<VirtualService>(), sni: false, autoHosts: [] };
      perPort.set(port, entry);
      if (passthrough) entry.sni = true;
      const serverHosts = serverHostNames(server.hosts);
      if (server.tls?.mode === "AUTO_PASSTHROUGH") {
        // Istio's AUTO_PASSTHROUGH takes no VirtualService: the SNI names the cluster
        entry.autoHosts.push(...serverHosts);
        continue;
      }
      for (const vs of vss) {
        if (entry.seen.has(vs)) continue;
        const bindable = serverHostsFor(server.hosts, gateway.metadata.namespace, vs.metadata.namespace);
        if (!vs.spec.hosts.some((h) => bindable.some((s) => hostMatches(s, normalizeHost(h)) || hostMatches(normalizeHost(h), s)))) continue;
        const routes = passthrough ? compileVsTls(vs, gwName, port, proxy, ctx).map((r) => withinServer(r, serverHosts)) : compileVsTcp(vs, gwName, names, port, proxy, ctx);
        if (!routes.length) continue;
        entry.seen.add(vs);
        entry.routes.push(...routes);
      }
    }
  }
  for (const [port, e] of perPort) {
    const auto = e.autoHosts.length && snapshot ? autoPassthroughRoutes(config, snapshot, e.autoHosts, ctx, proxy) : undefined;
    out.set(port, { port, routes: e.routes, ...(e.sni ? { sni: true } : {}), ...(auto ? { auto } : {}) });
  }
  return out;
}

/** a passthrough server's tls route answers only the names the server itself takes (its hosts) */
function withinServer(route: TcpRoute, serverHosts: readonly string[]): TcpRoute {
  if (serverHosts.includes("*")) return route;
  return { ...route, matches: (f) => f.sni !== undefined && serverHosts.some((s) => hostMatches(s, f.sni!)) && route.matches(f) };
}

/**
 * A sidecar's TCP destinations: "host:port" → the routes for connections the app opens to that
 * service port (CONNECT or --outbound-tcp): the mesh-bound `tcp` routes of VirtualServices naming
 * the host, then a last route to the port's own cluster, so an unrouted TCP port still works.
 */
export function compileMeshTcp(config: MeshConfig, snapshot: RegistrySnapshot, proxy: ProxyIdentity, ctx: TcpCompileContext): Map<string, TcpPortRoutes> {
  const out = new Map<string, TcpPortRoutes>();
  const vss = [...config.virtualServices].filter((vs) => vs.spec.tcp?.length).sort(byCreation);
  const tlsVss = [...config.virtualServices].filter((vs) => vs.spec.tls?.length).sort(byCreation);
  for (const service of snapshot.services.values()) {
    for (const port of service.ports) {
      const tls = isTlsProtocol(port.protocol);
      if (!tls && !isTcpProtocol(port.protocol)) continue;
      const routes: TcpRoute[] = [];
      for (const vs of tls ? tlsVss : vss) {
        const ns = vs.metadata.namespace;
        if (!vs.spec.hosts.some((h) => hostMatches(normalizeHost(expandHost(h, ns)), service.hostname))) continue;
        routes.push(...(tls ? compileVsTls(vs, "mesh", port.number, proxy, ctx) : compileVsTcp(vs, "mesh", new Set(["mesh"]), port.number, proxy, ctx)));
      }
      // SNI is read inside the tunnel only when a tls route may use it; else the CONNECT authority decides
      const sni = routes.length > 0 && tls;
      const own = ctx.clusters(service.hostname, port.number, undefined);
      routes.push({ name: `${service.hostname}:${port.number}`, matches: ALWAYS, pick: () => own, clusters: [own], ...(tls ? { passthrough: true } : {}) });
      out.set(`${service.hostname}:${port.number}`, { port: port.number, routes, ...(sni ? { sni } : {}) });
    }
  }
  return out;
}

function compileVsTcp(vs: VirtualService, gwName: string, names: ReadonlySet<string>, port: number, proxy: ProxyIdentity, ctx: TcpCompileContext): TcpRoute[] {
  const ns = vs.metadata.namespace;
  const own = vsGateways(vs);
  const out: TcpRoute[] = [];
  (vs.spec.tcp as TcpRouteSpec[]).forEach((spec, index) => {
    const predicates: ((f: ConnectionFacts) => boolean)[] = [];
    // a route without match applies wherever the VirtualService does; each block narrows it
    const blocks = spec.match?.length ? spec.match : [{}];
    for (const m of blocks) {
      // config-time: which gateway, which port, which proxy (sourceLabels / sourceNamespace name the
      // workload the connection comes from; at a gateway that is the gateway itself)
      const gws = m.gateways?.length ? m.gateways.map((g) => resolveGatewayName(g, ns)) : own;
      if (!gws.includes(gwName)) continue;
      if (m.port !== undefined && m.port !== port) continue;
      if (Object.entries(m.sourceLabels ?? {}).some(([k, v]) => proxy.labels[k] !== v)) continue;
      if (m.sourceNamespace && m.sourceNamespace !== proxy.namespace) continue;
      predicates.push(connectionPredicate(m.destinationSubnets, m.sourceSubnet));
    }
    if (!predicates.length) return;
    const destinations = spec.route ?? [];
    if (!destinations.length) return;
    const clusters = destinations.map((r) => ctx.clusters(expandHost(r.destination.host, ns), r.destination.port?.number, r.destination.subset));
    const which = compileWeighted(destinations.map((r) => r.weight), ctx.random);
    out.push({
      name: `${ns}/${vs.metadata.name}#tcp${index}`,
      matches: predicates.length === 1 ? predicates[0] : (f) => predicates.some((p) => p(f)),
      pick: () => clusters[which()],
      clusters,
    });
  });
  return out;
}

const ALWAYS = () => true;

export function connectionPredicate(destinationSubnets: string[] | undefined, sourceSubnet: string | undefined): (f: ConnectionFacts) => boolean {
  const destinations = (destinationSubnets ?? []).map(toBlock);
  const source = sourceSubnet ? toBlock(sourceSubnet) : undefined;
  if (!destinations.length && !source) return ALWAYS;
  return (f) => {
    if (destinations.length) {
      const ip = parseIp(f.destinationIp);
      if (!ip || !destinations.some((b) => ipInBlock(ip, b))) return false;
    }
    if (source) {
      const ip = parseIp(f.sourceIp);
      if (!ip || !ipInBlock(ip, source)) return false;
    }
    return true;
  };
}

/** "10.0.0.0/8" or a lone address (a /32 or /128); validated at load (config/l4-honesty.ts) */
function toBlock(text: string): IpBlock {
  const block = parseIpBlock(text);
  if (!block) throw new Error(`invalid subnet ${JSON.stringify(text)} reached the TCP route compiler`);
  return block;
}

/**
 * The route for a connection on a port, or undefined (Envoy closes it: no route). tls routes go by
 * their most specific server name matching facts.sni, then AUTO_PASSTHROUGH's cluster names, then
 * the routes without names (`tcp` routes, a sidecar port's own cluster) in order.
 */
export function findTcpRoute(routes: TcpPortRoutes | undefined, facts: ConnectionFacts): TcpRoute | undefined {
  if (!routes) return undefined;
  if (facts.sni !== undefined) {
    for (const pattern of sniCandidates(facts.sni)) {
      const tried = { ...facts, sniPattern: pattern };
      for (const route of routes.routes) if (route.sniHosts?.includes(pattern) && route.matches(tried)) return route;
    }
    const auto = routes.auto?.get(facts.sni);
    if (auto) return auto;
  }
  for (const route of routes.routes) if (!route.sniHosts && route.matches(facts)) return route;
  return undefined;
}

/** the gateway ports this proxy serves as TCP (a listener opens for each, routes or not) */
export function tcpGatewayPorts(config: MeshConfig, proxy: ProxyIdentity): Set<number> {
  const ports = new Set<number>();
  for (const gateway of gatewaysFor(config, proxy)) for (const server of gateway.spec.servers) if (isL4Server(server)) ports.add(server.port.number);
  return ports;
}
