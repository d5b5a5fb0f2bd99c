// HTTP CONNECT (RFC 9110 §9.3.6), for apps whose clients send HTTPS, gRPC or WebSocket through
// HTTP_PROXY. Only a sidecar's outbound listener opens tunnels; gateways and inbound listeners
// refuse CONNECT as Envoy refuses an upgrade it is not configured for (403, upgrade_failed).
// On the outbound listener the destination host:port must be a known service port (else 404 NR, as
// for any request without a route). A port that speaks HTTP ends the tunnel here: the answer is
// 200 and the requests inside are read and routed like any other, by their own Host (Envoy's
// "terminate CONNECT" mode, so L7 policy still applies). A port of another protocol needs a byte
// tunnel to the destination, which is not built yet: refused with the reason, never served as HTTP.
import { findVirtualHost, type RouteConfig, type RouteTable, type TableRef } from "../model/route-table.ts";
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
      return localReply(new ProxyError("upgrade-refused", `CONNECT ${authority}: port protocol ${port.protocol} needs a TCP tunnel, not built yet`), exchange.record);
    }
    exchange.record.details = "connect_terminated";
    return new MeshResponse(200, "Connection established", new Headers(), null);
  };
}
