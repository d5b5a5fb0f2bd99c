// Finds the DestinationRule for a service host and works out the traffic policy in force for a
// port and subset, as Istio layers it: rule-level, then port-level for the port, then the subset's
// own policy (itself with port-level settings) over that.
import type { DestinationRule, Subset, TrafficPolicy } from "../config/types.ts";
import { expandHost, hostMatches } from "./hosts.ts";

export interface DestinationRuleIndex {
  find(host: string): DestinationRule | undefined;
}

/** the proxy a rule's workloadSelector is matched against */
export interface RuleProxy {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/**
 * Whether a rule applies to proxy: one without workloadSelector applies to every proxy; one with
 * it only to the proxies of its own namespace whose labels include matchLabels (Istio: "workload
 * selectors do not apply across namespace boundaries"), and never without a proxy to match.
 */
export function ruleApplies(rule: DestinationRule, proxy: RuleProxy | undefined): boolean {
  const selector = rule.spec.workloadSelector;
  if (!selector) return true;
  if (!proxy || proxy.namespace !== rule.metadata.namespace) return false;
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => proxy.labels[k] === v);
}

/**
 * Oldest first wins, as Istio picks among rules for one host; exact hosts before wildcards. A rule
 * whose workloadSelector selects the proxy comes before those without one (Istio's
 * SidecarScope.DestinationRule returns the selecting rule first); one that does not select it is left out.
 */
export function indexDestinationRules(rules: readonly DestinationRule[], proxy?: RuleProxy): DestinationRuleIndex {
  const selected = (r: DestinationRule) => (r.spec.workloadSelector ? 0 : 1);
  const ordered = rules.filter((r) => ruleApplies(r, proxy)).sort((a, b) => selected(a) - selected(b) || byCreation(a, b));
  const exact = new Map<string, DestinationRule>();
  const wildcard: { pattern: string; rule: DestinationRule }[] = [];
  for (const rule of ordered) {
    const host = expandHost(rule.spec.host, rule.metadata.namespace);
    if (host.startsWith("*")) wildcard.push({ pattern: host, rule });
    else if (!exact.has(host)) exact.set(host, rule);
  }
  wildcard.sort((a, b) => b.pattern.length - a.pattern.length);
  return {
    find(host) {
      return exact.get(host) ?? wildcard.find((w) => hostMatches(w.pattern, host))?.rule;
    },
  };
}

export function byCreation(
  a: { metadata: { creationTimestamp?: string; namespace: string; name: string } },
  b: { metadata: { creationTimestamp?: string; namespace: string; name: string } },
): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function forPort(policy: TrafficPolicy | undefined, port: number): TrafficPolicy {
  if (!policy) return {};
  const { portLevelSettings, ...base } = policy;
  const level = portLevelSettings?.find((p) => p.port?.number === port);
  if (!level) return base;
  const { port: _port, ...override } = level;
  return { ...base, ...override };
}

export function policyFor(rule: DestinationRule | undefined, port: number, subset?: Subset): TrafficPolicy {
  const base = forPort(rule?.spec.trafficPolicy, port);
  if (!subset?.trafficPolicy) return base;
  return { ...base, ...forPort(subset.trafficPolicy, port) };
}

export function findSubset(rule: DestinationRule | undefined, name: string | undefined): Subset | undefined {
  if (!rule || !name) return undefined;
  return rule.spec.subsets?.find((s) => s.name === name);
}
