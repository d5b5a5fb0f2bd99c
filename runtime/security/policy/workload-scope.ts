// Which security policies reach a workload, as istiod decides it for a sidecar: a policy in the
// root namespace applies mesh-wide, any other to its own namespace; a selector narrows that to the
// workloads whose labels include all of its matchLabels (no selector, or empty matchLabels, means
// every workload in scope); a policy attached with targetRef(s) never reaches a sidecar.
import type { ObjectMeta, WorkloadSelector } from "../../config/types.ts";

export const DEFAULT_ROOT_NAMESPACE = "istio-system";

/** the workload a sidecar serves */
export interface WorkloadRef {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

export interface ScopedPolicy {
  metadata: ObjectMeta;
  spec: { selector?: WorkloadSelector; targetRef?: unknown; targetRefs?: readonly unknown[] };
}

export function selectorMatches(selector: WorkloadSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false;
  return true;
}

export function hasSelector(policy: ScopedPolicy): boolean {
  return Object.keys(policy.spec.selector?.matchLabels ?? {}).length > 0;
}

/** AuthorizationPolicy and RequestAuthentication: root namespace mesh-wide, selector by labels */
export function appliesTo(policy: ScopedPolicy, workload: WorkloadRef, rootNamespace: string): boolean {
  const ns = policy.metadata.namespace;
  if (ns !== rootNamespace && ns !== workload.namespace) return false;
  if (policy.spec.targetRef || policy.spec.targetRefs?.length) return false;
  return selectorMatches(policy.spec.selector, workload.labels);
}

const time = (m: ObjectMeta) => {
  const t = m.creationTimestamp ? Date.parse(m.creationTimestamp) : NaN;
  return Number.isNaN(t) ? -Infinity : t; // none (files) counts as oldest, like Go's zero time
};

/** istiod's order: oldest creationTimestamp first, then name, then namespace */
export function olderFirst(a: { metadata: ObjectMeta }, b: { metadata: ObjectMeta }): number {
  const ta = time(a.metadata);
  const tb = time(b.metadata);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.metadata.name !== b.metadata.name) return a.metadata.name < b.metadata.name ? -1 : 1;
  return a.metadata.namespace < b.metadata.namespace ? -1 : a.metadata.namespace > b.metadata.namespace ? 1 : 0;
}

/** "namespace/name", how decisions and logs name a policy */
export const policyName = (p: { metadata: ObjectMeta }) => `${p.metadata.namespace}/${p.metadata.name}`;
