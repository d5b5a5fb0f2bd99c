// ROUND_ROBIN and LEAST_REQUEST when the endpoints' weights differ, as Envoy switches to its
// weighted (EDF) scheduler then: round robin gives each usable host turns in proportion to its
// weight; least request does the same with each weight divided by (active requests + 1), Envoy's
// weighted least request with its default active_request_bias of 1. Smooth weighted round robin
// stands in for EDF: the same shares, exact over every cycle of the total weight, and no state
// but one number per host. A pick costs O(hosts), so equal weights keep the O(1) balancers.
import { randomIndex } from "./eligible.ts";
import { weightOf, type UpstreamHost } from "./host-set.ts";
import type { BalancerFactory } from "./types.ts";

/** whether any two hosts have different weights (then the weighted balancers apply) */
export function weightsDiffer(hosts: readonly UpstreamHost[]): boolean {
  const first = hosts.length ? weightOf(hosts[0]) : 1;
  return hosts.some((h) => weightOf(h) !== first);
}

function weighted(effective: (host: UpstreamHost, weight: number) => number): BalancerFactory {
  return (hosts, random) => {
    const n = hosts.length;
    const weights = hosts.map(weightOf);
    /** each host's credit: raised by its weight every pick, lowered by the total when it is picked */
    const credit = new Float64Array(n);
    // ties go to the first host scanned; a random start, as Envoy's, keeps proxies built at once apart
    const start = n > 0 ? randomIndex(random, n) : 0;

    /** strict: skip hosts in exclude (a retry prefers untried hosts); -1 when none is usable */
    function pass(exclude: ReadonlySet<UpstreamHost> | undefined, strict: boolean): number {
      let best = -1;
      let total = 0;
      for (let k = 0, i = start; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
        const h = hosts[i];
        if (!h.healthy || (strict && exclude !== undefined && exclude.has(h))) continue;
        const w = effective(h, weights[i]);
        credit[i] += w;
        total += w;
        if (best < 0 || credit[i] > credit[best]) best = i;
      }
      if (best >= 0) credit[best] -= total;
      return best;
    }

    return {
      pick(ctx) {
        let i = pass(ctx.exclude, true);
        if (i < 0 && ctx.exclude !== undefined) i = pass(ctx.exclude, false);
        return i < 0 ? undefined : hosts[i];
      },
    };
  };
}

export const weightedRoundRobin: BalancerFactory = weighted((_, weight) => weight);
export const weightedLeastRequest: BalancerFactory = weighted((host, weight) => weight / (host.active + 1));
