// Chooses the balancer a DestinationRule's loadBalancer asks for, and re-exports the parts.
import type { LoadBalancerSettings } from "../../config/types.ts";
import type { UpstreamHost } from "./host-set.ts";
import { leastRequest } from "./least-request.ts";
import { randomBalancer } from "./random.ts";
import { DEFAULT_RING_SIZE, ringHash } from "./ring-hash.ts";
import { roundRobin } from "./round-robin.ts";
import type { Balancer } from "./types.ts";
import { weightedLeastRequest, weightedRoundRobin, weightsDiffer } from "./weighted.ts";

export { createHost, type UpstreamHost } from "./host-set.ts";
export type { Balancer, BalancerFactory, PickContext } from "./types.ts";
export { hashKeyFor } from "./hash-key.ts";
export { leastRequest } from "./least-request.ts";
export { randomBalancer } from "./random.ts";
export { DEFAULT_RING_SIZE, MAX_RING_SIZE, ringHash } from "./ring-hash.ts";
export { roundRobin } from "./round-robin.ts";
export { weightedLeastRequest, weightedRoundRobin } from "./weighted.ts";

/**
 * Built once per host set. No settings, UNSPECIFIED and LEAST_CONN (Istio's deprecated alias)
 * give LEAST_REQUEST. PASSTHROUGH (an original-destination cluster in Istio) is refused at load
 * (config/schema-destination-rule.ts). consistentHash always uses the ring: `maglev` is accepted
 * and served by the ring with its default size (a documented difference: both hash consistently).
 */
export function createBalancer(
  settings: LoadBalancerSettings | undefined,
  hosts: readonly UpstreamHost[],
  random: () => number,
): Balancer {
  const hash = settings?.consistentHash;
  if (hash) {
    // proto3 zero means "unset", so 0 falls through to the default too
    const size = hash.ringHash?.minimumRingSize || hash.minimumRingSize || DEFAULT_RING_SIZE;
    return ringHash(size)(hosts, random);
  }
  // endpoint weights: honoured by round robin and least request (weighted.ts); RANDOM ignores
  // them, as Envoy's random balancer does
  const weights = weightsDiffer(hosts);
  switch (settings?.simple) {
    case "ROUND_ROBIN":
      return (weights ? weightedRoundRobin : roundRobin)(hosts, random);
    case "RANDOM":
      return randomBalancer(hosts, random);
    default:
      return (weights ? weightedLeastRequest : leastRequest)(hosts, random);
  }
}
