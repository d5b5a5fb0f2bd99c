// What a cluster keeps across route-table rebuilds: its circuit breaker and the connection pool
// that holds the breaker's connection limits on the wire, its outlier detector, and its counters. Keyed by cluster name; a reload updates limits and hosts
// in place, so ejections and open connections survive a config change.
import type { TrafficPolicy } from "../config/types.ts";
import type { Cluster, RouteTable } from "../model/route-table.ts";
import type { ConnectionPool, PoolLimits } from "./pool-types.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { createOutlierDetector, type OutlierDetector } from "../resilience/outlier-detector.ts";
import { createCircuitBreaker, poolLimits, type CircuitBreaker } from "../resilience/circuit-breaker.ts";
import { addressKey, tlsTargets, type MeshTls } from "./upstream-tls.ts";
import type { CredentialSource } from "../security/credential-source.ts";
import type { TlsTarget } from "./http1/index.ts";

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
  /** connectionPool limits and the request/retry counters they gate */
  readonly breaker: CircuitBreaker;
  counters: ClusterCounters;
  /** the settings the detector was built from, to rebuild it when they change */
  outlierKey: string;
  /** hosts reached over mTLS (upstream-tls.ts), by address */
  tls: Map<string, TlsTarget>;
  /** the port protocol the pool was made for (a reload may change it: HTTP ↔ GRPC) */
  protocol: string;
}

/** makes a cluster's pool; `tlsFor` says which addresses its connections reach over mTLS, `protocol` what its port speaks */
export type PoolFactory = (limits: PoolLimits, tlsFor: (hostname: string, port: number) => TlsTarget | null, protocol: string) => ConnectionPool;


export { poolLimits };

export interface ClusterStates {
  get(cluster: Cluster): ClusterState;
  /** the state if the cluster has any yet; never creates one (for the admin API) */
  peek(name: string): ClusterState | undefined;
  /** after a table swap: update every cluster's limits and hosts, retire clusters gone from it */
  sync(table: RouteTable): void;
  all(): Iterable<ClusterState>;
  /** the process is done with them (mesh.close()): every pool closed now, retiring ones too, no timer left */
  close(): void;
}

export function createClusterStates(createPool: PoolFactory, clock: Clock, mesh?: MeshTls, credentials?: CredentialSource): ClusterStates {
  const states = new Map<string, ClusterState>();
  // pools replaced or dropped, kept 30 s for requests still on them; close() must not wait for that
  const retiring = new Map<TimerHandle, ConnectionPool>();
  function retire(pool: ConnectionPool) {
    const handle = clock.setTimeout(() => {
      retiring.delete(handle);
      pool.close();
    }, 30_000);
    retiring.set(handle, pool);
  }

  function update(state: ClusterState, cluster: Cluster) {
    const policy = cluster.policy;
    state.breaker.configure(policy);
    state.pool.setLimits(state.breaker.poolLimits);
    const key = JSON.stringify(policy.outlierDetection ?? null);
    if (key !== state.outlierKey) {
      state.outlier.stop();
      state.outlier = createOutlierDetector(policy.outlierDetection, clock);
      state.outlierKey = key;
      state.outlier.start();
    }
    state.outlier.setHosts(cluster.hosts);
    state.tls = tlsTargets(cluster, mesh, credentials);
    if (cluster.port.protocol !== state.protocol) {
      // another wire protocol: a new pool; requests already sent finish on the old one
      const old = state.pool;
      state.protocol = cluster.port.protocol;
      state.pool = makePool(state, cluster);
      retire(old);
    }
  }

  function makePool(state: ClusterState, cluster: Cluster): ConnectionPool {
    // update() replaces the map; connections opened later read the current one
    return createPool(state.breaker.poolLimits, (hostname, port) => state.tls.get(addressKey(hostname, port)) ?? null, cluster.port.protocol);
  }

  function get(cluster: Cluster): ClusterState {
    let state = states.get(cluster.name);
    if (!state) {
      const created: ClusterState = {
        name: cluster.name,
        // update() replaces the map; connections opened later read the current one
        pool: createPool(poolLimits(cluster.policy), (hostname, port) => created.tls.get(addressKey(hostname, port)) ?? null, cluster.port.protocol),
        outlier: createOutlierDetector(undefined, clock),
        outlierKey: "null",
        breaker: createCircuitBreaker(cluster.policy),
        counters: { requests: 0, overflows: 0, retries: 0, retryOverflows: 0, flags: {} },
        tls: new Map(),
        protocol: cluster.port.protocol,
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
        retire(state.pool);
      }
    },
    all: () => states.values(),
    close() {
      for (const [handle, pool] of retiring) {
        clock.clearTimeout(handle);
        pool.close();
      }
      retiring.clear();
      for (const state of states.values()) {
        state.outlier.stop();
        state.pool.close();
      }
    },
  };
}
