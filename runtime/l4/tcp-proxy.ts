// The L4 proxy of a gateway TCP port, as Envoy's tcp_proxy: each accepted connection takes the
// first `tcp` route that matches it, a weighted pick of cluster, a host from the cluster's balancer
// (outlier ejections honoured; consistentHash.useSourceIp hashes on the client's address), and one
// connect attempt within the DestinationRule's connectTimeout; then the two connections are spliced
// (exchange/splice.ts) until both sides have closed.
// connectionPool.tcp.maxConnections caps the cluster's open connections (over it: closed, flag UO);
// a failed connect counts against the host in outlier detection and closes the client (UF); no
// route → NR, no healthy host → UH; connectionPool.tcp.idleTimeout (default 1 h) closes an idle
// connection. Istio's TCP metrics and an access log line per connection.
// A sidecar uses the same proxy for the app's TCP connections (tunnel(): CONNECT on the outbound
// listener, or an --outbound-tcp listener); an endpoint that takes mesh mTLS is reached through
// its sidecar's inbound port by deps.meshTunnel (l4/mesh-tunnel.ts), which a gateway has not.
// TLS passed through by SNI (conn.sni, read by l4/hello-sniffer.ts) takes a `tls` route the same
// way; its bytes are the client's own TLS, so they are never wrapped in origination TLS, nor in
// mesh mTLS at a gateway (Istio's AUTO_PASSTHROUGH relies on the client's mTLS going end to end).
import type { ByteChannel } from "../exchange/types.ts";
import { MeteredChannel } from "./metered-channel.ts";
import type { TlsTarget } from "../upstream/http1/index.ts";
import { splice, type Splice } from "../exchange/splice.ts";
import type { Clock } from "../lib/clock.ts";
import type { Cluster } from "../model/route-table.ts";
import { findTcpRoute, type ConnectionFacts, type TcpPortRoutes } from "../model/compile-tcp.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import { addressKey } from "../upstream/upstream-tls.ts";
import type { AccessLogWriter } from "../telemetry/access-log-writer.ts";
import { connectionEntry } from "../telemetry/access-log.ts";
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
  /** a byte tunnel over mesh mTLS to the sidecar in front of host:port (sidecars only) */
  meshTunnel?(host: string, port: number, target: TlsTarget, authority: string, timeoutMs: number): Promise<ByteChannel>;
  log(message: string, level?: "warn" | "error"): void;
}

/** a tunnel's upstream, or why there is none (Envoy's flag and details) */
export type TunnelResult = { channel: ByteChannel } | { flags: string; details: string };

export interface TcpProxy {
  handle(downstream: ByteChannel, conn: TcpConnection, routes?: TcpPortRoutes): void;
  /**
   * Opens the upstream for a connection whose downstream someone else splices (a CONNECT tunnel):
   * the channel returned counts bytes and reports the connection when both sides are done.
   */
  tunnel(conn: TcpConnection, routes: TcpPortRoutes | undefined, authority: string): Promise<TunnelResult>;
  /** connections being proxied now */
  active(): number;
}

/** a DestinationRule that makes the proxy originate TLS to the cluster (not for bytes already TLS) */
function originates(cluster: Cluster): boolean {
  const mode = cluster.policy.tls?.mode;
  return mode === "SIMPLE" || mode === "MUTUAL";
}

/**
 * consistentHash.useSourceIp hashes on the client's address, as the source_ip hash policy Istio puts
 * on Envoy's tcp_proxy; the other keys (header, cookie, query parameter) have nothing to read in a
 * byte stream, so the ring picks at random, as Envoy's tcp_proxy does (docs/protocols.md).
 */
function sourceIpKey(cluster: Cluster, conn: TcpConnection): string | undefined {
  if (!cluster.policy.loadBalancer?.consistentHash?.useSourceIp) return undefined;
  return conn.remoteAddress === "" ? undefined : conn.remoteAddress;
}

const NO_SERVICE: ServiceInfo = Object.freeze({ host: "", name: "", namespace: "" });

/** what a connection ended as, for metrics and the access log */
interface Outcome {
  flags: string;
  details?: string;
  cluster?: Cluster;
  host?: UpstreamHost;
  routeName?: string;
  /** "mutual_tls" when the upstream was reached through its sidecar's mTLS */
  security?: "mutual_tls";
  sent: number;
  received: number;
}

export function createTcpProxy(deps: TcpProxyDeps): TcpProxy {
  /** open upstream connections per cluster name, over every TCP port: connectionPool.tcp.maxConnections */
  const open = new Map<string, number>();
  const splices = new Set<Splice>();
  let tunnels = 0;
  let warnedMtls = false;
  let warnedOrigination = false;

  function finish(conn: TcpConnection, start: number, outcome: Outcome, opened: boolean): void {
    const series = deps.metrics.seriesFor({
      reporter: "source",
      peer: outcome.host ? peerFromEndpoint(outcome.host.endpoint) : UNKNOWN_PEER,
      service: outcome.cluster ? serviceInfo(outcome.cluster.service) : NO_SERVICE,
      flags: outcome.flags,
      security: outcome.security ?? "unknown",
    });
    if (!opened) series.opened();
    series.bytes(outcome.sent, outcome.received);
    series.closed();
    deps.accessLog()?.log(connectionEntry({
      startTime: start,
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
      requestedServerName: conn.sni,
    }));
  }

  function refuse(downstream: ByteChannel, conn: TcpConnection, start: number, outcome: Omit<Outcome, "sent" | "received">): void {
    downstream.destroy();
    finish(conn, start, { ...outcome, sent: 0, received: 0 }, false);
  }

  interface Opened {
    upstream: ByteChannel;
    base: { cluster: Cluster; routeName: string; security?: "mutual_tls" };
    host: UpstreamHost;
    release(): void;
    idleTimeoutMs: number;
  }

  /** route → cluster → host → connect: the upstream, or the outcome of a refusal */
  async function openUpstream(conn: TcpConnection, routes: TcpPortRoutes | undefined, authority: string): Promise<Opened | Omit<Outcome, "sent" | "received">> {
    const route = findTcpRoute(routes, conn);
    if (!route) return { flags: "NR", details: "no_route" };
    const cluster = route.pick();
    const state = deps.clusters.get(cluster);
    const base = { cluster, routeName: route.name };
    const limits = state.breaker.poolLimits;
    const count = open.get(cluster.name) ?? 0;
    if (count >= limits.maxConnections) {
      state.counters.overflows++;
      return { ...base, flags: "UO", details: "upstream_max_connections" };
    }
    const host = cluster.balancer.pick({ hashKey: sourceIpKey(cluster, conn) });
    if (!host) return { ...base, flags: "UH", details: "no_healthy_upstream" };
    if (originates(cluster) && !route.passthrough) {
      // TLS origination for a byte stream is not built: refused at load where the config shows
      // the port is TCP (config/l4-honesty.ts); here for ports only the registry declares
      if (!warnedOrigination) deps.log(`TCP to ${cluster.name}: its DestinationRule's tls.mode ${cluster.policy.tls!.mode} asks for TLS origination, which dietmesh's TCP proxy does not do yet; closing such connections (UF)`, "warn");
      warnedOrigination = true;
      return { ...base, host, flags: "UF", details: "upstream_tls_origination_not_supported" };
    }
    const address = host.endpoint.address.replace(/^\[|\]$/g, "");
    let target = state.tls.get(addressKey(address, host.port));
    // a passthrough's bytes are the client's own TLS: neither wrapped again nor sent over mesh mTLS at a gateway
    if (target && route.passthrough && (!deps.meshTunnel || originates(cluster))) target = undefined;
    if (target && !deps.meshTunnel) {
      // the endpoint expects mesh mTLS from its sidecar: plain bytes would be refused there
      if (!warnedMtls) deps.log(`TCP to ${cluster.name}: its endpoints take mesh mTLS, which the gateway's TCP proxy does not speak yet; closing such connections (UF)`, "warn");
      warnedMtls = true;
      return { ...base, host, flags: "UF", details: "upstream_mtls_not_supported" };
    }
    open.set(cluster.name, count + 1);
    host.active++;
    const release = () => {
      open.set(cluster.name, (open.get(cluster.name) ?? 1) - 1);
      host.active--;
    };
    let upstream: ByteChannel;
    try {
      upstream = target ? await deps.meshTunnel!(address, host.port, target, authority, limits.connectTimeoutMs) : await deps.connect(address, host.port, limits.connectTimeoutMs);
    } catch (error) {
      release();
      const failure = (error as { failure?: string }).failure;
      const timeout = failure === "connect-timeout";
      // a peer sidecar that answered and refused (authorization) is not a connect failure of the host
      if (failure !== "refused") state.outlier.record(host, { localOrigin: timeout ? "timeout" : "connect-failure" });
      state.counters.flags.UF = (state.counters.flags.UF ?? 0) + 1;
      return { ...base, host, flags: "UF", details: failure === "refused" ? "upstream_refused" : timeout ? "upstream_connect_timeout" : "upstream_connect_failure" };
    }
    // Envoy reports a connect that worked as a success to the detector (resets its consecutive counts)
    state.outlier.record(host, { status: 200 });
    deps.metrics.seriesFor({ reporter: "source", peer: peerFromEndpoint(host.endpoint), service: serviceInfo(cluster.service), flags: "", security: target ? "mutual_tls" : "unknown" }).opened();
    // DestinationRule connectionPool.tcp.idleTimeout: no byte either way for that long closes both; 0s = never
    const idleTimeoutMs = cluster.policy.connectionPool?.tcp?.idleTimeout ?? TCP_IDLE_TIMEOUT_MS;
    return { upstream, base: target ? { ...base, security: "mutual_tls" } : base, host, release, idleTimeoutMs };
  }

  async function handle(downstream: ByteChannel, conn: TcpConnection, routes: TcpPortRoutes | undefined): Promise<void> {
    const start = deps.clock.now();
    const opened = await openUpstream(conn, routes, "");
    if (!("upstream" in opened)) return refuse(downstream, conn, start, opened);
    const { upstream, base, host, release, idleTimeoutMs } = opened;
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

  async function tunnel(conn: TcpConnection, routes: TcpPortRoutes | undefined, authority: string): Promise<TunnelResult> {
    const start = deps.clock.now();
    const opened = await openUpstream(conn, routes, authority);
    if (!("upstream" in opened)) {
      finish(conn, start, { ...opened, sent: 0, received: 0 }, false);
      return { flags: opened.flags, details: opened.details ?? "" };
    }
    const { upstream, base, host, release } = opened;
    tunnels++;
    const channel = new MeteredChannel(upstream, (sent, received) => {
      tunnels--;
      release();
      finish(conn, start, { ...base, host, flags: "", sent, received }, true);
    });
    return { channel };
  }

  return {
    tunnel,
    handle(downstream, conn, routes) {
      handle(downstream, conn, routes ?? deps.routes(conn.port)).catch((error) => {
        downstream.destroy();
        deps.log(`TCP proxy: ${(error as Error).message}`, "error");
      });
    },
    active: () => splices.size + tunnels,
  };
}

