// The connection-pool contract the proxy uses for DestinationRule connectionPool limits, so that
// they hold on the wire (runtime/platform/http1/ implements it).
import type { UpstreamRequest } from "../platform/types.ts";
import type { HttpResponse } from "../exchange/types.ts";

export interface PoolLimits {
  /** cluster-wide open connections; Infinity = unlimited (tcp.maxConnections) */
  maxConnections: number;
  /** requests waiting for a connection; beyond it → overflow at once (http.http1MaxPendingRequests) */
  maxPendingRequests: number;
  /** 0 = unlimited; 1 = no keep-alive (http.maxRequestsPerConnection) */
  maxRequestsPerConnection: number;
  /** close idle connections after this (http.idleTimeout, Istio default 1 h) */
  idleTimeoutMs: number;
  /** tcp.connectTimeout, default 10 s */
  connectTimeoutMs: number;
  /** streams at once on one HTTP/2 connection, below the peer's own limit; unset = the peer's (http.maxConcurrentStreams) */
  maxConcurrentStreams?: number;
  /** HTTP/1.1 requests go out as HTTP/2 (http.h2UpgradePolicy UPGRADE; upstream/http2/upgrade.ts) */
  h2Upgrade?: boolean;
}

export interface PoolStats {
  connections: number;
  active: number;
  idle: number;
  pending: number;
  opened: number;
  overflows: number;
}

export interface ConnectionPool {
  send(address: string, request: UpstreamRequest): Promise<HttpResponse>;
  setLimits(limits: PoolLimits): void;
  stats(): PoolStats;
  close(): void;
}
