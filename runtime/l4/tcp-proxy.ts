// The L4 proxy of a gateway TCP port, as Envoy's tcp_proxy: each accepted connection takes the
// first `tcp` route that matches it, a weighted pick of cluster, a host from the cluster's balancer
// (outlier ejections honoured), and one connect attempt within the DestinationRule's connectTimeout;
// then the two connections are spliced (exchange/splice.ts) until both sides have closed.
// connectionPool.tcp.maxConnections caps the cluster's open connections (over it: closed, flag UO);
// a failed connect counts against the host in outlier detection and closes the client (UF); no
// route → NR, no healthy host → UH; connectionPool.tcp.idleTimeout (default 1 h) closes an idle
// connection. Istio's TCP metrics and an access log line per connection.
import type { ByteChannel } from "../exchange/types.ts";
import { splice, type Splice } from "../exchange/splice.ts";
import type { Clock } from "../lib/clock.ts";
import type { Cluster } from "../model/route-table.ts";
import { findTcpRoute, type ConnectionFacts, type TcpPortRoutes } from "../model/compile-tcp.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import { addressKey } from "../upstream/upstream-tls.ts";
import type { AccessLogWriter } from "../telemetry/access-log-writer.ts";
import type { IstioTcpMetrics } from "../telemetry/tcp-metrics.ts";
import { peerFromEndpoint, serviceInfo, UNKNOWN_PEER, type ServiceInfo } from "../telemetry/workload-info.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";

/** Istio's default for connectionPool.tcp.idleTimeout (Envoy's tcp_proxy idle_timeout): an hour without a byte either way */
export const TCP_IDLE_TIMEOUT_MS = 3_600_000;

export interface TcpConnection extends ConnectionFacts {
  /** the Gateway server port it arrived on (the listener may be bound elsewhere with --bind) */
  port: number;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export interface TcpProxyDeps {
  /** the routes of a Gateway server port in the table in force now */
  routes(port: number): TcpPortRoutes | undefined;
  clusters: ClusterStates;
  metrics: IstioTcpMetrics;
  accessLog(): AccessLogWriter | undefined;
  clock: Clock;
  /** opens a connection; rejects on failure or after timeoutMs (platform/tcp.ts connectTcp) */
  connect(host: string, port: number, timeoutMs: number): Promise<ByteChannel>;
  log(message: string, level?: "warn" | "error"): void;
}

export interface TcpProxy {
  handle(downstream: ByteChannel, conn: TcpConnection): void;
  /** connections being proxied now */
  active(): number;
}

const NO_SERVICE: ServiceInfo = Object.freeze({ host: "", name: "", namespace: "" });

/** what a connection ended as, for metrics and the access log */
interface Outcome {
  flags: string;
  details?: string;
  cluster?: Cluster;
  host?: UpstreamHost;
  routeName?: string;
  sent: number;
  received: number;
}

export function createTcpProxy(deps: TcpProxyDeps): TcpProxy {
  /** open upstream connections per cluster name, over every TCP port: connectionPool.tcp.maxConnections */
  const open = new Map<string, number>();
  const splices = new Set<Splice>();
  let warnedMtls = false;

  function finish(conn: TcpConnection, start: number, outcome: Outcome, opened: boolean): void {
    const series = deps.metrics.seriesFor({
      reporter: "source",
      peer: outcome.host ? peerFromEndpoint(outcome.host.endpoint) : UNKNOWN_PEER,
      service: outcome.cluster ? serviceInfo(outcome.cluster.service) : NO_SERVICE,
      flags: outcome.flags,
      security: "unknown",
    });
    if (!opened) series.opened();
    series.bytes(outcome.sent, outcome.received);
    series.closed();
    deps.accessLog()?.log({
      startTime: start,
      method: "",
      path: "",
      protocol: "",
      responseCode: 0,
      responseFlags: outcome.flags,
      responseCodeDetails: outcome.details,
      bytesReceived: outcome.received,
      bytesSent: outcome.sent,
      durationMs: deps.clock.now() - start,
      upstreamHost: outcome.host?.address,
      upstreamCluster: outcome.cluster?.name,
      downstreamLocalAddress: addressKey(conn.localAddress, conn.localPort),
      downstreamRemoteAddress: addressKey(conn.remoteAddress, conn.remotePort),
      routeName: outcome.routeName,
    });
  }

  function refuse(downstream: ByteChannel, conn: TcpConnection, start: number, outcome: Omit<Outcome, "sent" | "received">): void {
    downstream.destroy();
    finish(conn, start, { ...outcome, sent: 0, received: 0 }, false);
  }

  async function handle(downstream: ByteChannel, conn: TcpConnection): Promise<void> {
    const start = deps.clock.now();
    const route = findTcpRoute(deps.routes(conn.port), conn);
    if (!route) return refuse(downstream, conn, start, { flags: "NR", details: "no_route" });
    const cluster = route.pick();
    const state = deps.clusters.get(cluster);
    const base = { cluster, routeName: route.name };
    const limits = state.breaker.poolLimits;
    const count = open.get(cluster.name) ?? 0;
    if (count >= limits.maxConnections) {
      state.counters.overflows++;
      return refuse(downstream, conn, start, { ...base, flags: "UO", details: "upstream_max_connections" });
    }
    const host = cluster.balancer.pick({});
    if (!host) return refuse(downstream, conn, start, { ...base, flags: "UH", details: "no_healthy_upstream" });
    const address = host.endpoint.address.replace(/^\[|\]$/g, "");
    if (state.tls.has(addressKey(address, host.port))) {
      // the endpoint expects mesh mTLS from its sidecar: plain bytes would be refused there
      if (!warnedMtls) deps.log(`TCP to ${cluster.name}: its endpoints take mesh mTLS, which the gateway's TCP proxy does not speak yet; closing such connections (UF)`, "warn");
      warnedMtls = true;
      return refuse(downstream, conn, start, { ...base, host, flags: "UF", details: "upstream_mtls_not_supported" });
    }
    open.set(cluster.name, count + 1);
    host.active++;
    const release = () => {
      open.set(cluster.name, (open.get(cluster.name) ?? 1) - 1);
      host.active--;
    };
    let upstream: ByteChannel;
    try {
      upstream = await deps.connect(address, host.port, limits.connectTimeoutMs);
    } catch (error) {
      release();
      const timeout = (error as { failure?: string }).failure === "connect-timeout";
      state.outlier.record(host, { localOrigin: timeout ? "timeout" : "connect-failure" });
      state.counters.flags.UF = (state.counters.flags.UF ?? 0) + 1;
      return refuse(downstream, conn, start, { ...base, host, flags: "UF", details: timeout ? "upstream_connect_timeout" : "upstream_connect_failure" });
    }
    // Envoy reports a connect that worked as a success to the detector (resets its consecutive counts)
    state.outlier.record(host, { status: 200 });
    const series = deps.metrics.seriesFor({ reporter: "source", peer: peerFromEndpoint(host.endpoint), service: serviceInfo(cluster.service), flags: "", security: "unknown" });
    series.opened();
    // DestinationRule connectionPool.tcp.idleTimeout: no byte either way for that long closes both; 0s = never
    const idleTimeoutMs = cluster.policy.connectionPool?.tcp?.idleTimeout ?? TCP_IDLE_TIMEOUT_MS;
    const joined = splice(downstream, upstream, { clock: deps.clock, idleTimeoutMs });
    splices.add(joined);
    const result = await joined.done;
    splices.delete(joined);
    // splice() ends a side when its peer closes first; the side whose peer closed last was only
    // half-closed by its peer (a FIN, still writable): our FIN goes after what is queued
    downstream.end();
    upstream.end();
    release();
    // a downstream → b upstream: what came from the client was received, what went back was sent
    finish(conn, start, { ...base, host, flags: "", details: result.reason === "idle" ? "idle_timeout" : undefined, sent: result.bToA, received: result.aToB }, true);
  }

  return {
    handle(downstream, conn) {
      handle(downstream, conn).catch((error) => {
        downstream.destroy();
        deps.log(`TCP proxy: ${(error as Error).message}`, "error");
      });
    },
    active: () => splices.size,
  };
}
