// The contract every load balancer meets, so the retry loop can pick without knowing the policy.
import type { UpstreamHost } from "./host-set.ts";

export interface PickContext {
  /** precomputed consistent-hash input (see hashKeyFor), when the policy is consistentHash */
  hashKey?: string;
  /** hosts already tried by this request; retries prefer any other healthy host */
  exclude?: ReadonlySet<UpstreamHost>;
}

export interface Balancer {
  /** undefined only when no host is healthy: the proxy answers 503 with flag UH */
  pick(ctx: PickContext): UpstreamHost | undefined;
}

/** built once per host set (a new snapshot builds new balancers); random is in [0, 1) */
export type BalancerFactory = (hosts: readonly UpstreamHost[], random: () => number) => Balancer;
