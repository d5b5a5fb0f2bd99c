// What the sidecar's inbound side checks before a request reaches the app, in Envoy's filter
// order: the method and the path (normalized as meshConfig pathNormalization says; the app gets
// the normalized target, so what was authorized is what it serves), RequestAuthentication (a bad
// token → 401, no token → no request principal), then AuthorizationPolicy (DENY before ALLOW →
// 403 "RBAC: access denied"). The peer's principal comes only from a certificate the listener
// verified; nothing a client sends in a header can set it.
import type { JWTPayload } from "jose";
import type { ConnInfo } from "../platform/index.ts";
import { parseCookies, RBAC_ACCESS_DENIED, type AuthzDecision, type WorkloadSecurity } from "../security/policy/index.ts";

export type InboundVerdict =
  | { ok: true; target: string; headers: Headers }
  | { ok: false; response: Response };

const SPIFFE = "spiffe://";

function reply(status: number, body: string, extra?: Record<string, string>): { ok: false; response: Response } {
  return { ok: false, response: new Response(body, { status, headers: { "content-type": "text/plain", ...extra } }) };
}

/**
 * The target without the query parameters named (the ones that carried a token); every other
 * piece of the query stays byte for byte, where re-serializing would turn "%20" into "+" and "/"
 * into "%2F". A piece's name is decoded as URLSearchParams decoded it to find the token.
 */
function withoutParams(target: string, q: number, names: readonly string[]): string {
  const kept = target.slice(q + 1).split("&").filter((piece, i) => {
    // a leading "?" is dropped only at the start of the query, as when the whole query was parsed
    const name = new URLSearchParams(i === 0 ? piece : `&${piece}`).keys().next().value;
    return name === undefined || !names.includes(name);
  });
  return kept.length ? `${target.slice(0, q)}?${kept.join("&")}` : target.slice(0, q);
}

/**
 * headers: the request's headers as they will go to the app (the caller's copy: JWT rules may
 * remove the token and add claim headers). port: the app's port (destination.port).
 */
export async function checkInbound(
  security: WorkloadSecurity,
  method: string,
  rawTarget: string,
  headers: Headers,
  conn: ConnInfo,
  port: number,
  onDecision?: (decision: AuthzDecision) => void,
): Promise<InboundVerdict> {
  if (!security.methodOk(method)) return reply(400, "Bad Request");
  const normalized = security.normalize(rawTarget);
  if (!normalized.ok) return reply(400, "Bad Request");
  let target = normalized.target;
  // the JWT and RBAC steps only where a policy applies to this workload: nothing to do otherwise
  let principal: string | undefined;
  let claims: JWTPayload | undefined;
  if (security.authenticates) {
    const q = target.indexOf("?");
    const params = q >= 0 ? new URLSearchParams(target.slice(q + 1)) : undefined;
    const cookie = headers.get("cookie");
    const authn = await security.authenticate(headers, params, cookie ? parseCookies(cookie) : undefined);
    if (!authn.ok) return reply(401, "Jwt verification fails", { "www-authenticate": 'Bearer realm="dietmesh"' });
    for (const name of authn.removeHeaders) headers.delete(name);
    for (const [name, value] of authn.setHeaders) headers.set(name, value);
    if (authn.removeParams.length && q >= 0) target = withoutParams(target, q, authn.removeParams);
    principal = authn.principal;
    claims = authn.claims;
  }
  if (!security.authorizes) return { ok: true, target, headers };
  const peerId = conn.peer?.uris.length === 1 ? conn.peer.uris[0] : undefined;
  const decision = security.authorize({
    host: headers.get("host") ?? "",
    method,
    path: normalized.path,
    port,
    headers,
    sourceIp: conn.remoteAddress,
    remoteIp: conn.remoteAddress,
    principal: peerId?.startsWith(SPIFFE) ? peerId.slice(SPIFFE.length) : undefined,
    requestPrincipal: principal,
    claims,
  });
  onDecision?.(decision);
  if (!decision.allowed) return reply(403, RBAC_ACCESS_DENIED);
  return { ok: true, target, headers };
}
