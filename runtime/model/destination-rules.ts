// Finds the DestinationRule for a service host (merging several for one host, as Istio does) and
// works out the traffic policy in force for a port and subset, as Istio layers it: rule-level, then
// port-level for the port, then the subset's own policy (itself with port-level settings) over that.
import type { DestinationRule, Subset, TrafficPolicy } from "../config/types.ts";
import { DEFAULT_DOMAIN_SUFFIX, expandHost, hostMatches } from "./hosts.ts";

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
 * The rule for each host, oldest first, exact hosts before wildcards (the longest wildcard first).
 * A rule whose workloadSelector selects the proxy comes before those without one and is taken alone
 * (Istio's SidecarScope.DestinationRule returns the selecting rule first; Istio would also merge the
 * catch-all rules into it); one that does not select the proxy is left out. Otherwise the rules for
 * one host merge as Istio's mergeDestinationRule does (mergeRules).
 */
export function indexDestinationRules(rules: readonly DestinationRule[], proxy?: RuleProxy, domainSuffix = DEFAULT_DOMAIN_SUFFIX): DestinationRuleIndex {
  const selected = (r: DestinationRule) => (r.spec.workloadSelector ? 0 : 1);
  const ordered = rules.filter((r) => ruleApplies(r, proxy)).sort((a, b) => selected(a) - selected(b) || byCreation(a, b));
  const byHost = new Map<string, DestinationRule[]>();
  for (const rule of ordered) {
    const host = expandHost(rule.spec.host, rule.metadata.namespace, domainSuffix);
    const list = byHost.get(host);
    if (list) list.push(rule);
    else byHost.set(host, [rule]);
  }
  const exact = new Map<string, DestinationRule>();
  const wildcard: { pattern: string; rule: DestinationRule }[] = [];
  for (const [host, list] of byHost) {
    const rule = mergeRules(list);
    if (host.startsWith("*")) wildcard.push({ pattern: host, rule });
    else exact.set(host, rule);
  }
  wildcard.sort((a, b) => b.pattern.length - a.pattern.length);
  return {
    find(host) {
      return exact.get(host) ?? wildcard.find((w) => hostMatches(w.pattern, host))?.rule;
    },
  };
}

/** merged rule → the rules it was made of, oldest first; reused while they are the same objects */
const merged = new WeakMap<DestinationRule, readonly DestinationRule[]>();
const mergedFor = new WeakMap<DestinationRule, DestinationRule>();

/**
 * The rules for one host (in index order) as one rule, as Istio's mergeDestinationRule: the first
 * rule's namespace decides (Istio merges within a namespace; dietmesh picks among namespaces by
 * age), and the rules without workloadSelector of that namespace merge — subsets concatenated, a
 * name given twice keeping the oldest definition; the top-level trafficPolicy is the oldest rule's
 * that has one. A selecting rule first is taken alone.
 */
export function mergeRules(list: readonly DestinationRule[]): DestinationRule {
  const first = list[0];
  if (first.spec.workloadSelector) return first;
  const ns = first.metadata.namespace;
  const parts = list.filter((r) => !r.spec.workloadSelector && r.metadata.namespace === ns);
  if (parts.length === 1) return first;
  // the same object for the same rules, so on-demand.ts shares a compiled host across reloads
  const before = mergedFor.get(first);
  const was = before && merged.get(before);
  if (before && was && was.length === parts.length && was.every((r, i) => r === parts[i])) return before;
  const subsets: Subset[] = [];
  const names = new Set<string>();
  for (const part of parts) {
    for (const subset of part.spec.subsets ?? []) {
      if (names.has(subset.name)) continue;
      names.add(subset.name);
      subsets.push(subset);
    }
  }
  const trafficPolicy = parts.find((r) => r.spec.trafficPolicy)?.spec.trafficPolicy;
  const { trafficPolicy: _tp, subsets: _s, ...spec } = first.spec;
  const rule: DestinationRule = { ...first, spec: { ...spec, ...(trafficPolicy ? { trafficPolicy } : {}), ...(subsets.length ? { subsets } : {}) } };
  merged.set(rule, parts);
  mergedFor.set(first, rule);
  return rule;
}

/** the rules a rule from the index was merged from (itself alone when it was not merged) */
export function mergedFrom(rule: DestinationRule): readonly DestinationRule[] {
  return merged.get(rule) ?? [rule];
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
