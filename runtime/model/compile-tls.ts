// TLS routes by SNI (VirtualService `tls`), for connections whose TLS dietmesh does not terminate:
// gateway servers with tls.mode PASSTHROUGH and a sidecar's outbound TLS/HTTPS service ports. They
// compile to the same TcpRoute values as `tcp` routes (model/compile-tcp.ts) plus the sniHosts each
// answers for; findTcpRoute picks among them by the most specific server name first, as Envoy picks
// a filter chain by server_names (exact, then "*.suffix" from the longest suffix), and by order only
// among equals. AUTO_PASSTHROUGH needs no route: the SNI itself, in Istio's cluster-name form
// "outbound_.<port>_.<subset>_.<host>", names the cluster (autoPassthroughRoutes).
import type { MeshConfig, VirtualService } from "../config/types.ts";
import type { RegistrySnapshot } from "./types.ts";
import { vsGateways, type ProxyIdentity } from "./compile.ts";
import { expandHost, hostMatches, normalizeHost } from "./hosts.ts";
import { indexDestinationRules, type RuleProxy } from "./destination-rules.ts";
import { compileWeighted } from "../routing/weighted.ts";
import { resolveGatewayName } from "../routing/match.ts";
import { connectionPredicate, type ConnectionFacts, type TcpCompileContext, type TcpRoute } from "./compile-tcp.ts";

/** the `tls` block entries, which config/types.ts keeps as unknown[] (the schema has their shape) */
export interface TlsRouteSpec {
  match: {
    sniHosts: string[];
    destinationSubnets?: string[];
    port?: number;
    sourceLabels?: Record<string, string>;
    gateways?: string[];
    sourceNamespace?: string;
  }[];
  route?: { destination: { host: string; subset?: string; port?: { number?: number } }; weight?: number }[];
}

/** protocols of a service port whose bytes are TLS the app itself speaks: routed by SNI through a sidecar */
export function isTlsProtocol(protocol: string): boolean {
  const p = protocol.toUpperCase();
  return p === "TLS" || p === "HTTPS";
}

/** the tls routes of one VirtualService that apply to a gateway (or "mesh") and port, in order */
export function compileVsTls(vs: VirtualService, gwName: string, port: number, proxy: ProxyIdentity, ctx: TcpCompileContext): TcpRoute[] {
  const ns = vs.metadata.namespace;
  const own = vsGateways(vs);
  const out: TcpRoute[] = [];
  (vs.spec.tls as TlsRouteSpec[] | undefined)?.forEach((spec, index) => {
    const destinations = spec.route ?? [];
    if (!destinations.length) return;
    // each match block is its own filter chain in Envoy: its names and its conditions go together
    const blocks: { names: string[]; predicate: (f: ConnectionFacts) => boolean }[] = [];
    for (const m of spec.match) {
      const gws = m.gateways?.length ? m.gateways.map((g) => resolveGatewayName(g, ns)) : own;
      if (!gws.includes(gwName)) continue;
      if (m.port !== undefined && m.port !== port) continue;
      // at a gateway the connection's workload is the gateway itself; at a sidecar, this workload
      if (Object.entries(m.sourceLabels ?? {}).some(([k, v]) => proxy.labels[k] !== v)) continue;
      if (m.sourceNamespace && m.sourceNamespace !== proxy.namespace) continue;
      blocks.push({ names: m.sniHosts.map((h) => normalizeHost(h)), predicate: connectionPredicate(m.destinationSubnets, undefined) });
    }
    if (!blocks.length) return;
    const clusters = destinations.map((r) => ctx.clusters(expandHost(r.destination.host, ns), r.destination.port?.number, r.destination.subset));
    const which = compileWeighted(destinations.map((r) => r.weight), ctx.random);
    const names = [...new Set(blocks.flatMap((b) => b.names))];
    out.push({
      name: `${ns}/${vs.metadata.name}#tls${index}`,
      sniHosts: names,
      // the block whose names include the pattern that selected this route must also match
      matches: (f) => blocks.some((b) => (f.sniPattern === undefined || b.names.includes(f.sniPattern)) && b.predicate(f)),
      pick: () => clusters[which()],
      clusters,
      passthrough: true,
    });
  });
  return out;
}

/**
 * The patterns a server name is matched against, most specific first: the name, then "*." and each
 * shorter suffix ("a.b.example.com" → "*.b.example.com", "*.example.com", "*.com"), then "*".
 */
export function sniCandidates(name: string): string[] {
  const out = [name];
  let at = name.indexOf(".");
  while (at !== -1) {
    out.push(`*${name.slice(at)}`);
    at = name.indexOf(".", at + 1);
  }
  out.push("*");
  return out;
}

/** Istio's outbound cluster name as an SNI: "outbound_.9080_.v1_.reviews.default.svc.cluster.local" ("_" for no subset) */
export function autoPassthroughSni(host: string, port: number, subset: string | undefined): string {
  return `outbound_.${port}_.${subset ?? ""}_.${host}`;
}

/**
 * AUTO_PASSTHROUGH: every service port the gateway knows, with and without each subset its
 * DestinationRule declares, by the SNI naming it, for the hosts of the port's AUTO_PASSTHROUGH servers.
 */
export function autoPassthroughRoutes(config: MeshConfig, snapshot: RegistrySnapshot, serverHosts: readonly string[], ctx: TcpCompileContext, proxy?: RuleProxy): Map<string, TcpRoute> {
  const rules = indexDestinationRules(config.destinationRules, proxy);
  const out = new Map<string, TcpRoute>();
  for (const service of snapshot.services.values()) {
    // the servers' hosts say which services the port exposes, as Istio builds its filter chains
    if (!serverHosts.some((h) => hostMatches(h, service.hostname))) continue;
    const subsets = [undefined, ...(rules.find(service.hostname)?.spec.subsets ?? []).map((s) => s.name)];
    for (const port of service.ports) {
      for (const subset of subsets) {
        const sni = autoPassthroughSni(service.hostname, port.number, subset);
        const cluster = ctx.clusters(service.hostname, port.number, subset);
        out.set(sni, { name: sni, matches: () => true, pick: () => cluster, clusters: [cluster], passthrough: true });
      }
    }
  }
  return out;
}
