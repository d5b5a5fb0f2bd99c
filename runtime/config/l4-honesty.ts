// Config honesty for L4 (issue 12 item 5): what dietmesh does not carry yet is refused at load with
// its field path, instead of being accepted and served as something else (a TLS server or a
// sidecar's TCP route served as HTTP, silently). Runs on each resource after its schema parsed
// (load.ts); what is built today passes: Gateway servers with protocol TCP (MONGO, REDIS, MYSQL),
// TLS/HTTPS servers with tls.mode PASSTHROUGH or AUTO_PASSTHROUGH, and VirtualService `tcp` and
// `tls` routes bound to gateways or to `mesh` (model/compile-tcp.ts, compile-tls.ts, l4/). A port
// carries one of HTTP (terminated HTTPS included), TCP or TLS passthrough: Envoy could split a port
// between passthrough and terminated hosts by SNI, dietmesh's listeners cannot yet.
import type { IstioKind } from "./schemas.ts";
import { ipBlockProblem } from "../security/policy/ip-block.ts";
import { hostMatches } from "../model/hosts.ts";

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
