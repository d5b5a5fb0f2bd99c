// One request's retries (Envoy's RetryState): how many tries are left, whether a try's outcome is
// retried under the route's policy, the cluster's retry budget (the circuit breaker's maxRetries),
// the jittered backoff, and which hosts were tried, so a retry prefers another one.
import type { RetryPolicy, AttemptOutcome } from "../resilience/retry-policy.ts";
import type { CircuitBreaker } from "../resilience/circuit-breaker.ts";
import type { ReplayableBody } from "../resilience/body-replay.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import { sleep, type Clock } from "../lib/clock.ts";
import type { ClusterCounters } from "../upstream/cluster-state.ts";

export const RETRY = 0; // back off has been waited: try again
export const ANSWER = 1; // answer with this try's result
export const EXPIRED = 2; // the route timeout fired during the backoff

export class RetryState {
  /** tries started */
  tries = 0;
  tried: Set<UpstreamHost> | undefined;
  /** the last try failed in a way the policy retries, but none was left (Envoy's URX) */
  exhausted = false;

  constructor(
    readonly policy: RetryPolicy,
    readonly method: string,
    readonly breaker: CircuitBreaker,
    readonly counters: ClusterCounters,
    readonly clock: Clock,
    readonly random: () => number,
    readonly replay: ReplayableBody | undefined,
  ) {}

  /** hosts to avoid on the next pick */
  get exclude(): Set<UpstreamHost> | undefined {
    return this.tried;
  }

  /**
   * After try number `tries` ended with outcome: RETRY (then call backoff) or ANSWER with it.
   * routeExpired: whether the route timeout has fired (then nothing is retried).
   */
  decide(outcome: AttemptOutcome, routeExpired: boolean): number {
    const retriable = !routeExpired && this.policy.shouldRetry(outcome, this.method) && (!this.replay || this.replay.replayable());
    if (!retriable) return ANSWER;
    const index = this.tries - 1;
    if (index >= this.policy.maxRetries) {
      this.exhausted = index > 0;
      return ANSWER;
    }
    if (!this.breaker.tryRetry()) {
      this.counters.retryOverflows++;
      this.exhausted = index > 0;
      return ANSWER;
    }
    this.counters.retries++;
    return RETRY;
  }

  /** waits the jittered backoff before the next try (the retry slot is held meanwhile): RETRY or EXPIRED */
  async backoff(host: UpstreamHost, routeExpired: () => boolean): Promise<number> {
    try {
      await sleep(this.clock, this.policy.backoffMs(this.tries - 1, this.random));
    } finally {
      this.breaker.releaseRetry();
    }
    if (routeExpired()) {
      this.exhausted = this.tries > 1;
      return EXPIRED;
    }
    (this.tried ??= new Set()).add(host);
    return RETRY;
  }
}
