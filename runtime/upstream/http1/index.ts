// dietmesh's own HTTP/1.1 client: a socket layer per runtime, an HTTP/1.1 codec and a per-cluster
// connection pool. Hand-written because no library gives per-cluster connection limits that hold
// on the wire on both runtimes: Bun's fetch pools connections out of reach (and its node:http is
// built on that fetch, so an Agent's maxSockets is not enforced), and Deno's fetch replaces the Host
// header. DestinationRule connectionPool limits (maxConnections, http1MaxPendingRequests,
// maxRequestsPerConnection, idleTimeout, connectTimeout) are enforced here, per cluster.
//
// Retries are the proxy's; the one thing this client sends again by itself is a request that met
// the keep-alive race (a reused idle connection closed by the server before any response byte),
// once, on a fresh connection, and only when it has no body or none of its body was read yet.
import type { PoolLimits } from "../pool-types.ts";

export type { ConnectionPool, PoolLimits, PoolStats } from "../pool-types.ts";
export { createConnectionPool, type PoolOptions } from "./pool.ts";
export { createPoolClient, httpAddress } from "./client.ts";
export { defaultConnect } from "../../platform/http1/default-connect.ts";
export { meshConnect } from "../../platform/http1/mesh-connect.ts";
export type { TlsTarget } from "../../platform/http1/tls-transport.ts";
export type { Connect, Transport, TransportHandler } from "../../platform/http1/transport.ts";

/** Istio's defaults: no limits, idle connections closed after 1 h, connect timeout 10 s */
export const DEFAULT_POOL_LIMITS: PoolLimits = Object.freeze({
  maxConnections: Number.POSITIVE_INFINITY,
  maxPendingRequests: Number.POSITIVE_INFINITY,
  maxRequestsPerConnection: 0,
  idleTimeoutMs: 3_600_000,
  connectTimeoutMs: 10_000,
});
