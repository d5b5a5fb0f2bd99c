// What a cluster keeps across route-table rebuilds: its connection pool (connectionPool limits),
// its outlier detector, and its counters. Keyed by cluster name; a reload updates limits and hosts
// in place, so ejections and open connections survive a config change.
import type { TrafficPolicy } from "../config/types.ts";
import type { Cluster, RouteTable } from "../model/route-table.ts";
import type { ConnectionPool, PoolLimits } from "../platform/pool-types.ts";
import type { Clock } from "../resilience/clock.ts";
import { createOutlierDetector, type OutlierDetector } from "../resilience/outlier-detector.ts";
import { addressKey, tlsTargets, type MeshTls } from "./upstream-tls.ts";
import type { TlsTarget } from "../platform/http1/index.ts";

export interface ClusterCounters {
  requests: number;
  /** answered 503 UO: pool overflow or maxRequests */
  overflows: number;
  retries: number;
  /** retries skipped because http.maxRetries concurrent retries were already running */
  retryOverflows: number;
  /** local replies by response flag */
  flags: Record<string, number>;
}

export interface ClusterState {
  readonly name: string;
  pool: ConnectionPool;
  outlier: OutlierDetector;
  /** http.http2MaxRequests: concurrent requests to the cluster; Infinity = unlimited */
  maxRequests: number;
  /** http.maxRetries: concurrent retries to the cluster */
  maxRetries: number;
  active: number;
  activeRetries: number;
  counters: ClusterCounters;
  /** the settings the detector was built from, to rebuild it when they change */
  outlierKey: string;
  /** hosts reached over mTLS (upstream-tls.ts), by address */
  tls: Map<string, TlsTarget>;
}

/** makes a cluster's pool; `tlsFor` says which addresses its connections reach over mTLS */
export type PoolFactory = (limits: PoolLimits, tlsFor: (hostname: string, port: number) => TlsTarget | null) => ConnectionPool;


const UNLIMITED = Number.POSITIVE_INFINITY;

export function poolLimits(policy: TrafficPolicy): PoolLimits {
  const tcp = policy.connectionPool?.tcp;
  const http = policy.connectionPool?.http;
  return {
    maxConnections: tcp?.maxConnections || UNLIMITED,
    maxPendingRequests: http?.http1MaxPendingRequests || UNLIMITED,
    maxRequestsPerConnection: http?.maxRequestsPerConnection ?? 0,
    idleTimeoutMs: http?.idleTimeout || 3_600_000,
    connectTimeoutMs: tcp?.connectTimeout || 10_000,
  };
}

export interface ClusterStates {
  get(cluster: Cluster): ClusterState;
  /** the state if the cluster has any yet; never creates one (for the admin API) */
  peek(name: string): ClusterState | undefined;
  /** after a table swap: update every cluster's limits and hosts, retire clusters gone from it */
  sync(table: RouteTable): void;
  all(): Iterable<ClusterState>;
}

export function createClusterStates(createPool: PoolFactory, clock: Clock, mesh?: MeshTls): ClusterStates {
  const states = new Map<string, ClusterState>();

  function update(state: ClusterState, cluster: Cluster) {
    const policy = cluster.policy;
    state.pool.setLimits(poolLimits(policy));
    state.maxRequests = policy.connectionPool?.http?.http2MaxRequests || UNLIMITED;
    state.maxRetries = policy.connectionPool?.http?.maxRetries || UNLIMITED;
    const key = JSON.stringify(policy.outlierDetection ?? null);
    if (key !== state.outlierKey) {
      state.outlier.stop();
      state.outlier = createOutlierDetector(policy.outlierDetection, clock);
      state.outlierKey = key;
      state.outlier.start();
    }
    state.outlier.setHosts(cluster.hosts);
    state.tls = tlsTargets(cluster, mesh);
  }

  function get(cluster: Cluster): ClusterState {
    let state = states.get(cluster.name);
    if (!state) {
      const created: ClusterState = {
        name: cluster.name,
        // update() replaces the map; connections opened later read the current one
        pool: createPool(poolLimits(cluster.policy), (hostname, port) => created.tls.get(addressKey(hostname, port)) ?? null),
        outlier: createOutlierDetector(undefined, clock),
        outlierKey: "null",
        maxRequests: UNLIMITED,
        maxRetries: UNLIMITED,
        active: 0,
        activeRetries: 0,
        counters: { requests: 0, overflows: 0, retries: 0, retryOverflows: 0, flags: {} },
        tls: new Map(),
      };
      state = created;
      states.set(cluster.name, state);
      update(state, cluster);
    }
    return state;
  }

  return {
    get,
    peek: (name) => states.get(name),
    sync(table) {
      for (const cluster of table.clusters.values()) update(get(cluster), cluster);
      for (const [name, state] of states) {
        if (table.clusters.has(name)) continue;
        states.delete(name);
        state.outlier.stop();
        // requests that started on the old table may still be using the pool
        clock.setTimeout(() => state.pool.close(), 30_000);
      }
    },
    all: () => states.values(),
  };
}
