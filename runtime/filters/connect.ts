// HTTP CONNECT (RFC 9110 §9.3.6), for apps whose clients send HTTPS, gRPC or WebSocket through
// HTTP_PROXY. Only a sidecar's outbound listener opens tunnels; gateways and inbound listeners
// refuse CONNECT as Envoy refuses an upgrade it is not configured for (403, upgrade_failed).
// On the outbound listener the destination host:port must be a known service port (else 404 NR, as
// for any request without a route). A port that speaks HTTP ends the tunnel here: the answer is
// 200 and the requests inside are read and routed like any other, by their own Host (Envoy's
// "terminate CONNECT" mode, so L7 policy still applies). A port declared TCP (or MONGO, REDIS,
// MYSQL) gets a byte tunnel (tcpTunnels, in front of the chain on the sidecar's outbound listener):
// the L4 proxy picks the destination by the mesh-bound `tcp` routes, connects (over mTLS through
// the peer's sidecar when the endpoint is in the mesh), and the answer is 200 once it is connected
// — a failure is a 503 (404 without a route) and nothing is sent. A port declared TLS or HTTPS
// carries the app's own TLS as bytes the same way (`tls` routes bound to `mesh`); when a tls route
// names the host, the tunnel is answered 200 first and the ClientHello read inside it chooses the
// route by SNI (l4/sni-tunnel.ts), else the CONNECT authority decides as for TCP. Ports of other
// protocols (GRPC, …, and unnamed ports: no sniffing) are refused with the reason, never served as HTTP.
import { findVirtualHost, type RouteConfig, type RouteTable, type TableRef } from "../model/route-table.ts";
import { isTcpProtocol, type TcpPortRoutes } from "../model/compile-tcp.ts";
import { isTlsProtocol } from "../model/compile-tls.ts";
import { SniTunnel } from "../l4/sni-tunnel.ts";
import { parseIp } from "../security/policy/ip-block.ts";
import type { TcpProxy } from "../l4/tcp-proxy.ts";
import type { DataHandler, HttpRequest, HttpResponse } from "../exchange/types.ts";
import type { ConnInfo } from "../platform/types.ts";
import { authorityHost, authorityPort } from "../model/hosts.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import { MeshResponse } from "../exchange/response.ts";
import type { Filter } from "./chain.ts";

/** port protocols whose bytes dietmesh's HTTP/1.1 server can read inside a tunnel */
const HTTP_PROTOCOLS = new Set(["HTTP", "HTTP_PROXY"]);

/** CONNECT refused: gateways and inbound listeners */
export function connectRefusedFilter(): Filter {
  return function connect(exchange) {
    if (exchange.request.method !== "CONNECT") return undefined;
    return localReply(new ProxyError("upgrade-refused", "CONNECT is only served by a sidecar's outbound listener"), exchange.record);
  };
}

/** CONNECT on a sidecar's outbound listener */
export function connectFilter(table: TableRef, select: (table: RouteTable) => RouteConfig | undefined): Filter {
  return function connect(exchange) {
    if (exchange.request.method !== "CONNECT") return undefined;
    const current = table.current;
    const authority = exchange.facts.authority;
    const routes = select(current);
    const vhost = routes && findVirtualHost(routes, authorityHost(authority));
    const service = vhost && current.snapshot.services.get(vhost.name);
    const port = service?.ports.find((p) => p.number === authorityPort(authority));
    if (!port) return localReply(new ProxyError("no-route", `CONNECT ${authority}: no service port`), exchange.record);
    if (!HTTP_PROTOCOLS.has(port.protocol.toUpperCase())) {
      return localReply(new ProxyError("upgrade-refused", `CONNECT ${authority}: port protocol ${port.protocol} is neither HTTP, TCP nor TLS; declare the port TCP (or TLS) to tunnel its bytes`), exchange.record);
    }
    exchange.record.details = "connect_terminated";
    return new MeshResponse(200, "Connection established", new Headers(), null);
  };
}

/** the TCP routes for a CONNECT authority ("svc:9000", "svc.ns.svc.cluster.local:9000"), when its port is declared TCP, TLS or HTTPS */
export function tcpDestination(table: RouteTable, select: (table: RouteTable) => RouteConfig | undefined, authority: string): TcpPortRoutes | undefined {
  const port = authorityPort(authority);
  if (port === undefined) return undefined;
  const host = authorityHost(authority);
  const routes = select(table);
  const name = (routes && findVirtualHost(routes, host)?.name) ?? host;
  const found = table.meshTcp.get(`${name}:${port}`);
  const declared = table.snapshot.services.get(name)?.ports.find((p) => p.number === port);
  return found && declared && (isTcpProtocol(declared.protocol) || isTlsProtocol(declared.protocol)) ? found : undefined;
}

/** status and text of the answer to a CONNECT whose tunnel could not be opened, by Envoy flag */
const REFUSALS: Record<string, [number, string]> = { NR: [404, "Not Found"], UO: [503, "Service Unavailable"], UH: [503, "Service Unavailable"], UF: [503, "Service Unavailable"] };

/** byte tunnels for CONNECT to TCP service ports, in front of the outbound chain (which takes every other request) */
export function tcpTunnels(next: DataHandler, options: { table: TableRef; select: (table: RouteTable) => RouteConfig | undefined; proxy: TcpProxy }): DataHandler {
  // every other request goes to the chain as it is: no async frame, and no promise wrapping the
  // chain's (adopting one costs microtask turns per request)
  return (request, conn) => (request.method !== "CONNECT" ? next(request, conn) : tunnel(request, conn));
  async function tunnel(request: HttpRequest, conn: ConnInfo): Promise<HttpResponse> {
    const authority = request.rawTarget ?? new URL(request.url).host;
    const routes = tcpDestination(options.table.current, options.select, authority);
    if (!routes) return next(request, conn);
    const host = authorityHost(authority).replace(/^\[|\]$/g, "");
    const facts = { port: routes.port, remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, localAddress: conn.localAddress ?? "", localPort: conn.localPort ?? 0, sourceIp: conn.remoteAddress, destinationIp: parseIp(host) ? host : "" };
    if (routes.sni) {
      const channel = new SniTunnel((sni) => options.proxy.tunnel({ ...facts, sni }, routes, authority));
      return new MeshResponse(200, "Connection established", new Headers(), null, undefined, channel);
    }
    const result = await options.proxy.tunnel(facts, routes, authority);
    if ("channel" in result) return new MeshResponse(200, "Connection established", new Headers(), null, undefined, result.channel);
    const [status, text] = REFUSALS[result.flags] ?? [503, "Service Unavailable"];
    return new MeshResponse(status, text, new Headers({ "content-length": "0" }), null);
  }
}
