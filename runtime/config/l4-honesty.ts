// Config honesty for L4 (issue 12 item 5): what dietmesh does not carry yet is refused at load with
// its field path, instead of being accepted and served as something else (a TLS server or a
// sidecar's TCP route served as HTTP, silently). Runs on each resource after its schema parsed
// (load.ts); what is built today passes: Gateway servers with protocol TCP (MONGO, REDIS, MYSQL),
// TLS/HTTPS servers with tls.mode PASSTHROUGH or AUTO_PASSTHROUGH, and VirtualService `tcp` and
// `tls` routes bound to gateways or to `mesh` (model/compile-tcp.ts, compile-tls.ts, l4/). A port
// carries one of HTTP (terminated HTTPS included), TCP or TLS passthrough: Envoy could split a port
// between passthrough and terminated hosts by SNI, dietmesh's listeners cannot yet.
import type { IstioKind } from "./schemas.ts";
import type { Destination, DestinationRule, MeshConfig, ServicePort, Subset, TrafficPolicy, VirtualService } from "./types.ts";
import { formatPath } from "./errors.ts";
import { ipBlockProblem } from "../security/policy/ip-block.ts";
import { expandHost, hostMatches, normalizeHost } from "../model/hosts.ts";
import { byCreation, findSubset, mergedFrom, type DestinationRuleIndex } from "../model/destination-rules.ts";

export interface L4Problem {
  /** under spec */
  path: PropertyKey[];
  message: string;
}

const TCP_FAMILY = new Set(["TCP", "MONGO", "REDIS", "MYSQL"]);

type PortKind = "HTTP" | "TCP" | "TLS passthrough";

interface VsShape {
  hosts: string[];
  gateways?: string[];
  tls?: { match: { sniHosts: string[]; destinationSubnets?: string[] }[]; route?: unknown[] }[];
  tcp?: { match?: { gateways?: string[]; destinationSubnets?: string[]; sourceSubnet?: string }[]; route?: unknown[] }[];
}

interface GatewayShape {
  servers: { port: { number: number; protocol: string }; tls?: Record<string, unknown> }[];
}

export function l4Problems(kind: IstioKind, spec: unknown): L4Problem[] {
  if (kind === "VirtualService") return virtualService(spec as VsShape);
  if (kind === "Gateway") return gateway(spec as GatewayShape);
  return [];
}

function virtualService(vs: VsShape): L4Problem[] {
  const out: L4Problem[] = [];
  vs.tls?.forEach((route, i) => {
    if (!route.route?.length) out.push({ path: ["tls", i, "route"], message: "a tls route needs route with at least one destination" });
    route.match.forEach((m, j) => {
      m.sniHosts.forEach((sni, k) => {
        // Istio's rule: a name the VirtualService does not claim would route traffic of another host
        const host = sni.toLowerCase();
        if (!vs.hosts.some((h) => hostMatches(h.toLowerCase(), host) || (host.startsWith("*") && hostMatches(host, h.toLowerCase())))) {
          out.push({ path: ["tls", i, "match", j, "sniHosts", k], message: `sniHost ${JSON.stringify(sni)} is not one of the VirtualService's hosts (${vs.hosts.join(", ")})` });
        }
      });
      m.destinationSubnets?.forEach((subnet, k) => {
        const problem = ipBlockProblem(subnet);
        if (problem) out.push({ path: ["tls", i, "match", j, "destinationSubnets", k], message: problem });
      });
    });
  });
  vs.tcp?.forEach((route, i) => {
    const blocks = route.match ?? [];
    if (!route.route?.length) out.push({ path: ["tcp", i, "route"], message: "a tcp route needs route with at least one destination" });
    blocks.forEach((m, j) => {
      m.destinationSubnets?.forEach((subnet, k) => {
        const problem = ipBlockProblem(subnet);
        if (problem) out.push({ path: ["tcp", i, "match", j, "destinationSubnets", k], message: problem });
      });
      if (m.sourceSubnet !== undefined) {
        const problem = ipBlockProblem(m.sourceSubnet);
        if (problem) out.push({ path: ["tcp", i, "match", j, "sourceSubnet"], message: problem });
      }
    });
  });
  return out;
}

function gateway(gw: GatewayShape): L4Problem[] {
  const out: L4Problem[] = [];
  /** port number → what its first server carries, and that server's index */
  const kinds = new Map<number, { kind: PortKind; index: number }>();
  gw.servers.forEach((server, i) => {
    const protocol = server.port.protocol.toUpperCase();
    const path = ["servers", i, "port", "protocol"];
    const mode = server.tls?.mode;
    const passthrough = (protocol === "TLS" || protocol === "HTTPS") && (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH");
    if (protocol === "TLS" && !passthrough) {
      out.push({ path: mode === undefined ? ["servers", i, "tls"] : ["servers", i, "tls", "mode"], message: mode === undefined ? "a TLS server needs tls.mode PASSTHROUGH or AUTO_PASSTHROUGH" : `tls.mode ${String(mode)} on a TLS server (TLS terminated, then TCP) is not supported by dietmesh's gateway yet; PASSTHROUGH and AUTO_PASSTHROUGH are, and HTTPS servers terminate TLS for HTTP` });
      return;
    }
    if (passthrough) {
      // the backend's own certificate is what the client sees: nothing here could be used
      for (const field of Object.keys(server.tls!)) {
        if (field !== "mode" && server.tls![field] !== undefined) out.push({ path: ["servers", i, "tls", field], message: `tls.${field} has no use with tls.mode ${String(mode)}: the TLS is not terminated by the gateway` });
      }
    }
    if (protocol === "UDP") {
      out.push({ path, message: "protocol UDP is not supported (Istio's gateways do not proxy UDP either)" });
      return;
    }
    const kind: PortKind = passthrough ? "TLS passthrough" : TCP_FAMILY.has(protocol) ? "TCP" : "HTTP";
    const first = kinds.get(server.port.number);
    if (!first) kinds.set(server.port.number, { kind, index: i });
    else if (first.kind !== kind) {
      out.push({ path, message: `port ${server.port.number} is already served as ${first.kind} by servers[${first.index}]; one port carries HTTP (and terminated HTTPS), TCP or TLS passthrough, not a mix` });
    }
  });
  return out;
}

// ---------- DestinationRule TLS origination on bytes (issue: tls.mode SIMPLE/MUTUAL on TCP) ----------
// The TCP proxy carries bytes as they come: it does not originate TLS for a DestinationRule (Envoy
// would wrap the TCP stream in TLS). Where the config shows that such a rule is in force for a TCP
// port or a tcp route, the load is refused, the error on the field that asks for it; a port only
// the registry declares TCP is refused per connection instead (l4/tcp-proxy.ts, flag UF).

export interface OriginationProblem {
  resource: DestinationRule | VirtualService;
  path: PropertyKey[];
  message: string;
}

const ORIGINATING = new Set(["SIMPLE", "MUTUAL"]);

interface OriginationSite {
  /** the rule whose field sets the mode (one of a merged rule's parts) */
  dr: DestinationRule;
  path: PropertyKey[];
  mode: string;
}

/**
 * Where the tls settings in force for port (and subset) are set, when their mode originates TLS:
 * policyFor's layering (subset port level, subset, rule port level, rule), each `tls` whole.
 */
export function originationSite(rule: DestinationRule, port: number, subset?: Subset): OriginationSite | undefined {
  const parts = mergedFrom(rule);
  const levels: { policy: TrafficPolicy; owner: DestinationRule; at: PropertyKey[] }[] = [];
  if (subset?.trafficPolicy) {
    const owner = parts.find((p) => p.spec.subsets?.includes(subset)) ?? rule;
    levels.push({ policy: subset.trafficPolicy, owner, at: ["spec", "subsets", owner.spec.subsets!.indexOf(subset), "trafficPolicy"] });
  }
  const top = rule.spec.trafficPolicy;
  if (top) levels.push({ policy: top, owner: parts.find((p) => p.spec.trafficPolicy === top) ?? rule, at: ["spec", "trafficPolicy"] });
  for (const { policy, owner, at } of levels) {
    const i = policy.portLevelSettings?.findIndex((p) => p.port?.number === port) ?? -1;
    const level = i >= 0 ? policy.portLevelSettings![i] : undefined;
    const tls = level?.tls ?? policy.tls;
    if (!tls) continue;
    if (!ORIGINATING.has(tls.mode ?? "")) return undefined;
    return { dr: owner, path: level?.tls ? [...at, "portLevelSettings", i, "tls", "mode"] : [...at, "tls", "mode"], mode: tls.mode! };
  }
  return undefined;
}

/** as the registry reads a ServiceEntry port: protocol, else the name's prefix (adapters/static/from-config.ts) */
const protocolOf = (p: ServicePort) => (p.protocol ?? p.name.split("-")[0]).toUpperCase();

/** the rules that may be in force for host: the merged catch-all one, and each selecting rule alone */
function candidates(host: string, inForce: DestinationRuleIndex, selecting: readonly { host: string; dr: DestinationRule }[]): DestinationRule[] {
  const rule = inForce.find(host);
  return [...(rule ? [rule] : []), ...selecting.filter((s) => hostMatches(s.host, host)).map((s) => s.dr)];
}

/**
 * SIMPLE/MUTUAL in force for a port a ServiceEntry declares TCP (MONGO, REDIS, MYSQL), reported on
 * the rule's field; and for the destination of a VirtualService `tcp` route, reported on the
 * destination. inForce: the rules without workloadSelector, merged (model/destination-rules.ts).
 */
export function originationProblems(config: MeshConfig, inForce: DestinationRuleIndex, domainSuffix: string): OriginationProblem[] {
  const out: OriginationProblem[] = [];
  const seen = new Set<string>();
  const selecting = config.destinationRules
    .filter((dr) => dr.spec.workloadSelector)
    .map((dr) => ({ host: expandHost(dr.spec.host, dr.metadata.namespace, domainSuffix), dr }));
  const sitesFor = (host: string, port: number, subsetName: string | undefined) =>
    candidates(host, inForce, selecting).flatMap((rule) => {
      const subset = subsetName === undefined ? undefined : findSubset(rule, subsetName);
      if (subsetName !== undefined && !subset) return [];
      const site = originationSite(rule, port, subset);
      return site ? [site] : [];
    });
  const key = (site: OriginationSite) => `${site.dr.metadata.namespace}/${site.dr.metadata.name}`;
  const where = (site: OriginationSite) => `DestinationRule ${key(site)} (${formatPath(site.path)}: ${site.mode})`;
  /** every ServiceEntry port of a host, the oldest entry first (the one the registry keeps) */
  const entryPorts = new Map<string, ServicePort[]>();
  for (const se of [...config.serviceEntries].sort(byCreation)) {
    for (const h of se.spec.hosts) {
      const host = normalizeHost(h);
      if (!entryPorts.has(host)) entryPorts.set(host, se.spec.ports ?? []);
    }
  }

  for (const [host, ports] of entryPorts) {
    for (const port of ports.filter((p) => TCP_FAMILY.has(protocolOf(p)))) {
      for (const rule of candidates(host, inForce, selecting)) {
        for (const subset of [undefined, ...(rule.spec.subsets ?? [])]) {
          const site = originationSite(rule, port.number, subset);
          if (!site || seen.has(`${key(site)} ${formatPath(site.path)}`)) continue;
          seen.add(`${key(site)} ${formatPath(site.path)}`);
          out.push({
            resource: site.dr,
            path: site.path,
            message: `tls.mode ${site.mode} would originate TLS on port ${port.number} of ${host}, declared ${protocolOf(port)} (a byte stream): dietmesh's TCP proxy does not originate TLS yet; send TLS from the app, or declare the port HTTP to originate TLS for HTTP`,
          });
        }
      }
    }
  }

  // a tls route is left alone: it carries the client's own TLS, never wrapped again (Istio would
  // wrap it, which no server accepts), and Istio's tasks pair one with a rule originating TLS for
  // HTTP sent to the same port (docs/protocols.md)
  for (const vs of config.virtualServices) {
    (vs.spec.tcp as { route?: { destination: Destination }[] }[] | undefined)?.forEach((r, i) => {
      r.route?.forEach((d, j) => {
        const host = expandHost(d.destination.host, vs.metadata.namespace, domainSuffix);
        // no port on the destination: the service's first, as the TCP proxy takes it
        const port = d.destination.port?.number ?? entryPorts.get(host)?.[0]?.number;
        if (port === undefined) return;
        const sites = sitesFor(host, port, d.destination.subset);
        if (!sites.length) return;
        out.push({
          resource: vs,
          path: ["spec", "tcp", i, "route", j, "destination"],
          message: `${sites.map(where).join(" and ")} originates TLS to port ${port} of ${host}, but a tcp route carries bytes as they come: dietmesh's TCP proxy does not originate TLS yet`,
        });
      });
    });
  }
  return out;
}
