// Config honesty for L4 (issue 12 item 5): what dietmesh does not carry yet is refused at load with
// its field path, instead of being accepted and served as something else (a TLS server or a
// sidecar's TCP route served as HTTP, silently). Runs on each resource after its schema parsed
// (load.ts); what is built today passes: Gateway servers with protocol TCP (MONGO, REDIS, MYSQL)
// and VirtualService `tcp` routes bound to gateways or to `mesh` (model/compile-tcp.ts, l4/).
import type { IstioKind } from "./schemas.ts";
import { ipBlockProblem } from "../security/policy/ip-block.ts";

export interface L4Problem {
  /** under spec */
  path: PropertyKey[];
  message: string;
}

const TCP_FAMILY = new Set(["TCP", "MONGO", "REDIS", "MYSQL"]);

interface VsShape {
  gateways?: string[];
  tls?: unknown[];
  tcp?: { match?: { gateways?: string[]; destinationSubnets?: string[]; sourceSubnet?: string }[]; route?: unknown[] }[];
}

interface GatewayShape {
  servers: { port: { number: number; protocol: string } }[];
}

export function l4Problems(kind: IstioKind, spec: unknown): L4Problem[] {
  if (kind === "VirtualService") return virtualService(spec as VsShape);
  if (kind === "Gateway") return gateway(spec as GatewayShape);
  return [];
}

function virtualService(vs: VsShape): L4Problem[] {
  const out: L4Problem[] = [];
  if (vs.tls?.length) {
    out.push({ path: ["tls"], message: "tls routes (routing by SNI, TLS passthrough) are not supported by dietmesh yet; terminate TLS at a Gateway server with protocol HTTPS and route with http, or carry the bytes with a TCP server and tcp routes" });
  }
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
  /** port number → whether its first server is TCP-family, and that server's index */
  const kinds = new Map<number, { tcp: boolean; index: number }>();
  gw.servers.forEach((server, i) => {
    const protocol = server.port.protocol.toUpperCase();
    const path = ["servers", i, "port", "protocol"];
    if (protocol === "TLS") {
      out.push({ path, message: "protocol TLS (SNI passthrough or TLS-terminated TCP) is not supported by dietmesh's gateway yet; HTTPS with tls.mode SIMPLE is, and TCP" });
      return;
    }
    if (protocol === "UDP") {
      out.push({ path, message: "protocol UDP is not supported (Istio's gateways do not proxy UDP either)" });
      return;
    }
    const tcp = TCP_FAMILY.has(protocol);
    const first = kinds.get(server.port.number);
    if (!first) kinds.set(server.port.number, { tcp, index: i });
    else if (first.tcp !== tcp) {
      out.push({ path, message: `port ${server.port.number} is already served as ${first.tcp ? "TCP" : "HTTP"} by servers[${first.index}]; one port carries either HTTP or TCP` });
    }
  });
  return out;
}
