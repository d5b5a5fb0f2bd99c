// ROUND_ROBIN: each usable host in turn (equal weights; weighted.ts when they differ).
import { randomIndex, scanFrom } from "./eligible.ts";
import type { BalancerFactory } from "./types.ts";

export const roundRobin: BalancerFactory = (hosts, random) => {
  const n = hosts.length;
  // A random start, as Envoy does, so many proxies built at once don't all begin on host 0.
  let next = n > 0 ? randomIndex(random, n) : 0;
  return {
    pick(ctx) {
      if (n === 0) return undefined;
      const i = scanFrom(hosts, next, ctx.exclude);
      if (i < 0) return undefined;
      // Resume after the host returned, not after the cursor: a skipped (ejected) host's turn
      // then goes to nobody in particular, instead of doubling its neighbour's share.
      next = i + 1 === n ? 0 : i + 1;
      return hosts[i];
    },
  };
};
