// RANDOM: a uniformly random usable host; no shared state, so nothing to coordinate.
import { randomUsable } from "./eligible.ts";
import type { BalancerFactory } from "./types.ts";

export const randomBalancer: BalancerFactory = (hosts, random) => ({
  pick(ctx) {
    const i = randomUsable(hosts, random, ctx.exclude);
    return i < 0 ? undefined : hosts[i];
  },
});
