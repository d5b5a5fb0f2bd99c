// LEAST_REQUEST, Envoy's default: power of two random choices, the one with fewer requests in
// flight wins. Two samples give most of the benefit of a full scan at O(1) cost, and avoid the
// herd effect of everyone sending to the single least-loaded host.
import { randomUsable, scanFrom } from "./eligible.ts";
import type { BalancerFactory } from "./types.ts";

export const leastRequest: BalancerFactory = (hosts, random) => {
  const n = hosts.length;
  return {
    pick(ctx) {
      if (n === 1) return hosts[0].healthy ? hosts[0] : undefined;
      const a = randomUsable(hosts, random, ctx.exclude);
      if (a < 0) return undefined;
      let b = randomUsable(hosts, random, ctx.exclude);
      // Envoy samples with replacement; on a collision we compare against the next usable host
      // instead, so two distinct hosts always compete when two exist.
      if (b === a) b = scanFrom(hosts, a + 1, ctx.exclude);
      const ha = hosts[a];
      const hb = hosts[b];
      // Ties keep the first sample, as Envoy does; it is uniformly random already.
      return hb.active < ha.active ? hb : ha;
    },
  };
};
