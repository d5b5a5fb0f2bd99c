// AuthorizationPolicy → one authorizer per workload, compiled once; a request only runs closures.
// Istio's order: DENY first (any match → denied), then ALLOW (when the workload has any ALLOW
// policy, one must match, else denied); AUDIT policies never decide, they only flag the request.
// A policy without rules matches nothing: an ALLOW one then denies everything (Istio's
// "allow-nothing"); DENY without rules is refused at load, as istiod refuses it. CUSTOM is refused
// at load too. Policies annotated istio.io/dry-run: "true" are evaluated on the side and reported
// in `dryRun`, never enforced.
import type { AuthorizationPolicy } from "../../config/types.ts";
import { RequestView, type AuthzAttributes } from "./attributes.ts";
import { compileRule, type RequestPredicate } from "./authz-rules.ts";
import { appliesTo, DEFAULT_ROOT_NAMESPACE, olderFirst, policyName, type WorkloadRef } from "./workload-scope.ts";

/** Envoy's body for a 403 from its RBAC filter */
export const RBAC_ACCESS_DENIED = "RBAC: access denied";
export const DRY_RUN_ANNOTATION = "istio.io/dry-run";

export type AuthzReason =
  | "denied" // a DENY policy matched (policy names it)
  | "not-allowed" // ALLOW policies apply and none matched
  | "allowed" // an ALLOW policy matched (policy names it)
  | "no-allow-policy"; // no policy denied and none requires an allow

export interface AuthzVerdict {
  allowed: boolean;
  reason: AuthzReason;
  /** "namespace/name" of the policy that decided, for "denied" and "allowed" */
  policy?: string;
}

export interface AuthzDecision extends AuthzVerdict {
  /** an AUDIT policy matched; auditPolicy names the first one */
  audit: boolean;
  auditPolicy?: string;
  /** what the dry-run policies alone would have decided; absent when the workload has none */
  dryRun?: AuthzVerdict;
}

export interface Authorizer {
  (attrs: AuthzAttributes): AuthzDecision;
  /** the policies that apply, by action, oldest first ("namespace/name") */
  readonly policies: { readonly deny: readonly string[]; readonly allow: readonly string[]; readonly audit: readonly string[]; readonly dryRun: readonly string[] };
}

interface CompiledPolicy {
  name: string;
  matches: RequestPredicate;
}

function compilePolicy(p: AuthorizationPolicy): CompiledPolicy {
  const ctx = { denySide: (p.spec.action ?? "ALLOW") !== "ALLOW", namespace: p.metadata.namespace };
  const rules = (p.spec.rules ?? []).map((r) => compileRule(r, ctx));
  const matches: RequestPredicate = rules.length === 1 ? rules[0] : (r) => {
    for (const rule of rules) if (rule(r)) return true;
    return false;
  };
  return { name: policyName(p), matches };
}

const firstMatch = (list: readonly CompiledPolicy[], r: RequestView) => {
  for (const p of list) if (p.matches(r)) return p;
  return undefined;
};

function verdict(deny: readonly CompiledPolicy[], allow: readonly CompiledPolicy[], r: RequestView): AuthzVerdict {
  const denied = firstMatch(deny, r);
  if (denied) return { allowed: false, reason: "denied", policy: denied.name };
  if (!allow.length) return { allowed: true, reason: "no-allow-policy" };
  const allowed = firstMatch(allow, r);
  return allowed ? { allowed: true, reason: "allowed", policy: allowed.name } : { allowed: false, reason: "not-allowed" };
}

export function compileAuthorization(
  policies: readonly AuthorizationPolicy[],
  workload: WorkloadRef,
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): Authorizer {
  const applying = policies.filter((p) => appliesTo(p, workload, rootNamespace)).sort(olderFirst);
  const dry = (p: AuthorizationPolicy) => p.metadata.annotations[DRY_RUN_ANNOTATION]?.toLowerCase() === "true";
  const pick = (action: string, dryRun: boolean) =>
    applying.filter((p) => (p.spec.action ?? "ALLOW") === action && (action === "AUDIT" || dry(p) === dryRun)).map(compilePolicy);
  const deny = pick("DENY", false);
  const allow = pick("ALLOW", false);
  const audit = pick("AUDIT", false);
  const dryDeny = pick("DENY", true);
  const dryAllow = pick("ALLOW", true);
  const hasDryRun = dryDeny.length + dryAllow.length > 0;

  const authorize = (attrs: AuthzAttributes): AuthzDecision => {
    const r = new RequestView(attrs);
    const audited = firstMatch(audit, r);
    const decision: AuthzDecision = { ...verdict(deny, allow, r), audit: audited !== undefined };
    if (audited) decision.auditPolicy = audited.name;
    if (hasDryRun) decision.dryRun = verdict(dryDeny, dryAllow, r);
    return decision;
  };
  const names = (l: CompiledPolicy[]) => l.map((p) => p.name);
  return Object.assign(authorize, {
    policies: { deny: names(deny), allow: names(allow), audit: names(audit), dryRun: [...names(dryDeny), ...names(dryAllow)] },
  });
}
