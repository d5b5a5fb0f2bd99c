// Before any policy reads a request: Istio rejects methods not in upper case, and the request
// target is normalized as meshConfig pathNormalization says (BASE by default) — the app gets the
// normalized target, so what was authorized is what it serves. Refused: 400.
import type { WorkloadSecurity } from "../security/policy/index.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Filter } from "./chain.ts";

/** `always`: run even where no policy applies (the sidecar's inbound side); else only for policies */
export function requestChecksFilter(security: () => WorkloadSecurity | undefined, always: boolean): Filter {
  return function requestChecks(exchange) {
    const current = security();
    if (!current || (!always && !current.authenticates && !current.authorizes)) return undefined;
    const { facts } = exchange;
    if (!current.methodOk(facts.method)) return localReply(new ProxyError("invalid-request", "method not in upper case"), exchange.record);
    const normalized = current.normalize(facts.query ? `${facts.path}?${facts.query}` : facts.path);
    if (!normalized.ok) return localReply(new ProxyError("invalid-request", normalized.reason), exchange.record);
    const target = normalized.target;
    const q = target.indexOf("?");
    facts.path = normalized.path;
    facts.query = q === -1 ? "" : target.slice(q + 1);
    return undefined;
  };
}
