// Finds the DestinationRule for a service host and works out the traffic policy in force for a
// port and subset, as Istio layers it: rule-level, then port-level for the port, then the subset's
// own policy (itself with port-level settings) over that.
import type { DestinationRule, Subset, TrafficPolicy } from "../config/types.ts";
import { expandHost, hostMatches } from "./hosts.ts";

export interface DestinationRuleIndex {
  find(host: string): DestinationRule | undefined;
}

/** oldest first wins, as Istio picks among rules for one host; exact hosts before wildcards */
export function indexDestinationRules(rules: readonly DestinationRule[]): DestinationRuleIndex {
  const ordered = [...rules].sort(byCreation);
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
