// A cluster's circuit breaker, as Envoy's resource manager: the DestinationRule's connectionPool
// turned into limits once per config, and the counters the router asks before it uses a resource.
// Connections and pending requests are held on the wire by the cluster's connection pool, which
// takes its limits from here (poolLimits); concurrent requests (http2MaxRequests) and concurrent
// retries (maxRetries) are gated here by the router. Over a limit: 503 UO, and nothing waits.
import type { TrafficPolicy } from "../config/types.ts";
import type { PoolLimits } from "../upstream/pool-types.ts";

const UNLIMITED = Number.POSITIVE_INFINITY;

export interface CircuitBreaker {
  /** connections and pending requests, for the cluster's pool */
  readonly poolLimits: PoolLimits;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /** requests to the cluster now */
  readonly activeRequests: number;
  readonly activeRetries: number;
  /** false: over http2MaxRequests, answer UO */
  tryRequest(): boolean;
  releaseRequest(): void;
  /** false: over maxRetries, do not retry (the failure is answered as it is) */
  tryRetry(): boolean;
  releaseRetry(): void;
  /** new limits from a config change; what is in flight keeps running */
  configure(policy: TrafficPolicy): void;
}

export function poolLimits(policy: TrafficPolicy): PoolLimits {
  const tcp = policy.connectionPool?.tcp;
  const http = policy.connectionPool?.http;
  return {
    maxConnections: tcp?.maxConnections || UNLIMITED,
    maxPendingRequests: http?.http1MaxPendingRequests || UNLIMITED,
    maxRequestsPerConnection: http?.maxRequestsPerConnection ?? 0,
    idleTimeoutMs: http?.idleTimeout || 3_600_000,
    connectTimeoutMs: tcp?.connectTimeout || 10_000,
    maxConcurrentStreams: http?.maxConcurrentStreams || UNLIMITED,
    h2Upgrade: http?.h2UpgradePolicy === "UPGRADE",
  };
}

class ClusterCircuitBreaker implements CircuitBreaker {
  poolLimits!: PoolLimits;
  maxRequests = UNLIMITED;
  maxRetries = UNLIMITED;
  activeRequests = 0;
  activeRetries = 0;

  constructor(policy: TrafficPolicy) {
    this.configure(policy);
  }

  configure(policy: TrafficPolicy): void {
    const http = policy.connectionPool?.http;
    this.poolLimits = poolLimits(policy);
    this.maxRequests = http?.http2MaxRequests || UNLIMITED;
    this.maxRetries = http?.maxRetries || UNLIMITED;
  }

  tryRequest(): boolean {
    if (this.activeRequests >= this.maxRequests) return false;
    this.activeRequests++;
    return true;
  }

  releaseRequest(): void {
    this.activeRequests--;
  }

  tryRetry(): boolean {
    if (this.activeRetries >= this.maxRetries) return false;
    this.activeRetries++;
    return true;
  }

  releaseRetry(): void {
    this.activeRetries--;
  }
}

export function createCircuitBreaker(policy: TrafficPolicy): CircuitBreaker {
  return new ClusterCircuitBreaker(policy);
}
