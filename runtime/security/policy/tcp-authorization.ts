// AuthorizationPolicy for TCP connections (a sidecar's inbound tunnels), as Istio builds its
// network RBAC filter: a TCP connection has no host, method, path, header or JWT, so a rule that
// names one of those (operation hosts/methods/paths, source requestPrincipals, a `when` on
// request.*) cannot be judged. Istio resolves that toward refusal: in an ALLOW policy such a rule
// is dropped (it allows nothing), in a DENY or AUDIT policy the HTTP-only fields are dropped from
// the rule (it then matches more connections). The rest — principals, namespaces, service
// accounts, trust domains, ipBlocks, remoteIpBlocks, ports and the source/destination `when` keys —
// is evaluated by the same compiled rules as for HTTP.
import type { AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource } from "../../config/types.ts";
import { compileAuthorization, type Authorizer } from "./authorization.ts";
import type { WorkloadRef } from "./workload-scope.ts";

const HTTP_SOURCE: readonly (keyof AuthorizationSource)[] = ["requestPrincipals", "notRequestPrincipals"];
const HTTP_OPERATION: readonly (keyof AuthorizationOperation)[] = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"];
const httpCondition = (key: string) => key.startsWith("request.");

const has = <T extends object>(o: T, keys: readonly (keyof T)[]) => keys.some((k) => (o[k] as unknown[] | undefined)?.length);
const without = <T extends object>(o: T, keys: readonly (keyof T)[]): T => {
  const copy = { ...o };
  for (const k of keys) delete copy[k];
  return copy;
};

/** whether a rule names anything only HTTP has */
export function hasHttpOnlyFields(rule: AuthorizationRule): boolean {
  return (rule.from ?? []).some((f) => has(f.source, HTTP_SOURCE)) || (rule.to ?? []).some((t) => has(t.operation, HTTP_OPERATION)) || (rule.when ?? []).some((c) => httpCondition(c.key));
}

/** the rule with its HTTP-only fields removed (DENY/AUDIT) */
function stripped(rule: AuthorizationRule): AuthorizationRule {
  return {
    ...(rule.from ? { from: rule.from.map((f) => ({ source: without(f.source, HTTP_SOURCE) })) } : {}),
    ...(rule.to ? { to: rule.to.map((t) => ({ operation: without(t.operation, HTTP_OPERATION) })) } : {}),
    ...(rule.when ? { when: rule.when.filter((c) => !httpCondition(c.key)) } : {}),
  };
}

/** the policies as they apply to TCP (see the note at the top) */
export function tcpPolicies(policies: readonly AuthorizationPolicy[]): AuthorizationPolicy[] {
  return policies.map((p) => {
    const rules = p.spec.rules;
    if (!rules?.some(hasHttpOnlyFields)) return p;
    const allow = (p.spec.action ?? "ALLOW") === "ALLOW";
    const next = allow ? rules.filter((r) => !hasHttpOnlyFields(r)) : rules.map((r) => (hasHttpOnlyFields(r) ? stripped(r) : r));
    return { ...p, spec: { ...p.spec, rules: next } };
  });
}

/** the authorizer for TCP connections to a workload; call it with host, method and path "" */
export function compileTcpAuthorization(policies: readonly AuthorizationPolicy[], workload: WorkloadRef, rootNamespace?: string): Authorizer {
  return compileAuthorization(tcpPolicies(policies), workload, rootNamespace);
}
