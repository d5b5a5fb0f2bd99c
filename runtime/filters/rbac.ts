// AuthorizationPolicy (Envoy's rbac filter): DENY before ALLOW; denied → 403 "RBAC: access
// denied". The peer's principal comes only from a client certificate the listener verified; the
// request principal only from the JWT filter before it. Every decision is reported (metrics).
import type { AuthzDecision, WorkloadSecurity } from "../security/policy/index.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Filter } from "./chain.ts";

const SPIFFE = "spiffe://";

/** port: destination.port (the app's port on a sidecar, the server port on a gateway) */
export function rbacFilter(security: () => WorkloadSecurity | undefined, port: number, onDecision?: (decision: AuthzDecision) => void): Filter {
  return function rbac(exchange) {
    const current = security();
    if (!current?.authorizes) return undefined;
    const { facts, conn } = exchange;
    const peerId = conn.peer?.uris.length === 1 ? conn.peer.uris[0] : undefined;
    const decision = current.authorize({
      host: facts.headers.get("host") ?? "",
      method: facts.method,
      path: facts.path,
      port,
      headers: facts.headers,
      sourceIp: conn.remoteAddress,
      remoteIp: conn.remoteAddress,
      // the address the connection arrived at, and the server name its TLS asked for
      destinationIp: conn.localAddress,
      sni: conn.sni,
      principal: peerId?.startsWith(SPIFFE) ? peerId.slice(SPIFFE.length) : undefined,
      requestPrincipal: exchange.authn?.principal,
      claims: exchange.authn?.claims,
    });
    onDecision?.(decision);
    return decision.allowed ? undefined : localReply(new ProxyError("forbidden"), exchange.record);
  };
}
