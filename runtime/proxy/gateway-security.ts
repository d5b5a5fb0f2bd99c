// The gateway's share of Istio's security policies: RequestAuthentication and AuthorizationPolicy
// whose selector matches the gateway's labels (istio=ingressgateway), checked before routing as
// Envoy's jwt_authn and rbac filters run before its router. Only when the config has policies of
// those kinds at all: otherwise the guard costs nothing per request.
import type { ConnInfo } from "../platform/index.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import type { AuthzDecision, WorkloadSecurity } from "../security/policy/index.ts";
import { checkInbound } from "./inbound-security.ts";

export function gatewayGuard(security: () => WorkloadSecurity | undefined, port: number, onDecision?: (decision: AuthzDecision) => void) {
  // synchronous when no policy selects the gateway: the route handler then awaits nothing
  return (request: Request, facts: RequestFacts, conn: ConnInfo): Promise<Response | undefined> | undefined => {
    const current = security();
    if (!current || (!current.authenticates && !current.authorizes)) return undefined;
    return check(current, request, facts, conn);
  };

  async function check(current: WorkloadSecurity, request: Request, facts: RequestFacts, conn: ConnInfo): Promise<Response | undefined> {
    const target = facts.query ? `${facts.path}?${facts.query}` : facts.path;
    const verdict = await checkInbound(current, request.method, target, new Headers(facts.headers), conn, port, onDecision);
    if (!verdict.ok) return verdict.response;
    facts.headers = verdict.headers;
    const q = verdict.target.indexOf("?");
    facts.path = q === -1 ? verdict.target : verdict.target.slice(0, q);
    facts.query = q === -1 ? "" : verdict.target.slice(q + 1);
    return undefined;
  }
}
