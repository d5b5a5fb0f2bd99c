// `dietmesh sidecar`: the outbound listener (routes the app's calls by the mesh config) and the
// inbound listener (forwards to the local app), on the shared proxy core (proxy-core.ts: identity,
// telemetry, config watch, admin, drain).
import { platform, type Server } from "../platform/index.ts";
import { lendReads } from "../platform/read-buffers.ts";
import { inboundHandler, outboundHandler } from "../filters/chains.ts";
import { createAppHealth, parseAppProbes, type AppHealth } from "../admin/app-health.ts";
import { listenData, parseListenAddress } from "../exchange/listener.ts";
import { authorityPort } from "../model/hosts.ts";
import { parseFlags, parseLabels, UsageError } from "./args.ts";
import { sidecarSpec } from "./sidecar-spec.ts";

export { sidecarSpec };
import { configureLogging, createLogger } from "./log.ts";
import { registerWithConsul, type ConsulRegistration } from "./consul-register.ts";
import { createObserver } from "../telemetry/observe.ts";
import { localServiceLookup } from "../telemetry/local-service.ts";
import { appMetricsScraper } from "../telemetry/app-metrics.ts";
import { serveInbound } from "./inbound-setup.ts";
import { address, startProxyCore } from "./proxy-core.ts";
import { compileWorkloadSecurity, createJwksCache } from "../security/policy/index.ts";
import { fetchJwks, pathNormalizationFlag } from "./security-setup.ts";
import { systemClock } from "../lib/clock.ts";
import type { MeshConfig } from "../config/types.ts";
import { upstreamClient } from "../upstream/default-client.ts";
import { tcpTunnels } from "../filters/connect.ts";
import { createTcpProxy } from "../l4/tcp-proxy.ts";
import { inboundTunnels } from "../l4/inbound-tunnel.ts";
import { openMeshTunnel, tlsOpener } from "../l4/mesh-tunnel.ts";
import { connectTcp } from "../platform/tcp.ts";
import { defaultConnect, meshConnect } from "../upstream/http1/index.ts";
import { createIstioTcpMetrics } from "../telemetry/tcp-metrics.ts";

export async function runSidecar(argv: string[]): Promise<void> {
  const flags = parseFlags(sidecarSpec, argv);
  configureLogging(flags);
  const log = createLogger("sidecar");
  lendReads(true); // this process runs no application code that could keep a streamed chunk (read-buffers.ts)
  if (!flags.lists.config.length && !flags.lists.registry.some((r) => r.startsWith("kubernetes"))) throw new UsageError("--config is required (a file or directory of Istio YAML) unless --registry kubernetes reads it from the cluster");
  const outboundAddr = address("outbound", flags.strings.outbound);
  address("admin", flags.strings.admin);
  const app = flags.strings.app;
  if (app && !parseListenAddress(app)) throw new UsageError(`--app: expected HOST:PORT, got "${app}"`);
  const inboundAddr = app ? address("inbound", flags.strings.inbound) : undefined;
  const namespace = flags.strings.namespace ?? "default";
  const labels = parseLabels(flags.strings.labels);
  const appHealth = appProbesFlag(flags.strings["app-probes"]);
  const statusAddr = flags.strings.status ? address("status", flags.strings.status) : undefined;
  const appMetricsUrl = flags.strings["app-metrics"];
  if (appMetricsUrl && !statusAddr) throw new UsageError("--app-metrics needs --status (the merged metrics are served there)");
  if (appMetricsUrl && !/^http:\/\/[^/]+\//.test(appMetricsUrl)) throw new UsageError(`--app-metrics: expected http://HOST:PORT/PATH, got "${appMetricsUrl}"`);
  const consulAgent = flags.strings["consul-register"];
  if (consulAgent && !inboundAddr) throw new UsageError("--consul-register needs --app (it registers the inbound listener)");
  const serviceAccount = flags.strings["service-account"] ?? "default";

  // PeerAuthentication, RequestAuthentication and AuthorizationPolicy for this workload, recompiled
  // on every accepted config; JWKS keys outlive reloads in one cache
  const jwksCache = createJwksCache({ clock: systemClock, fetchJwks });
  const normalization = pathNormalizationFlag(flags.strings["path-normalization"]);
  const core = await startProxyCore({
    kind: "sidecar",
    flags,
    namespace,
    labels,
    serviceAccount,
    log,
    securityFor: (config: MeshConfig) => compileWorkloadSecurity(config, { namespace, labels }, { clock: systemClock, jwksCache, pathNormalization: normalization }),
  });
  const { deps, identity, telemetry, limits, watch } = core;
  // a sidecar always has its policies compiled (path normalization applies without any)
  const security = () => core.security()!;

  // TCP: CONNECT to a TCP service port is a byte tunnel (filters/connect.ts, l4/), to the peer's
  // sidecar over mTLS (l4/mesh-tunnel.ts) when the endpoint is in the mesh
  const tcpMetrics = createIstioTcpMetrics(telemetry.registry, telemetry.self);
  const openTls = tlsOpener(meshConnect, defaultConnect);
  const tcpProxy = createTcpProxy({
    routes: () => undefined,
    clusters: deps.clusters,
    metrics: tcpMetrics,
    accessLog: telemetry.accessLog,
    clock: systemClock,
    connect: connectTcp,
    meshTunnel: (host, port, target, authority, timeoutMs) => openMeshTunnel(openTls, systemClock, host, port, target, authority, timeoutMs, deps.peerMetadata),
    log: (m, level) => log(`outbound TCP: ${m}`, level),
  });
  const outbound = tcpTunnels(
    outboundHandler({
      table: watch.table,
      select: (t) => t.outbound,
      // an app calling http://svc:8080 through the proxy names the port in the authority
      port: (authority) => authorityPort(authority) ?? 80,
      deps,
    }),
    { table: watch.table, select: (t) => t.outbound, proxy: tcpProxy },
  );
  const outboundServer = listenData(outboundAddr, outbound, log, { limits });
  const servers: Server[] = [outboundServer];
  let inboundServer: Server | undefined;
  if (app && inboundAddr) {
    const appPort = parseListenAddress(app)!.port;
    // the service this workload serves, for the destination side's metrics (HTTP and TCP alike)
    const localService = localServiceLookup({ snapshot: () => watch.table.current.snapshot, namespace, labels, inboundAddresses: () => (inboundServer ? [`${inboundServer.hostname}:${inboundServer.port}`] : []) });
    const inbound = inboundHandler({
      app,
      deps,
      observer: createObserver({
        reporter: "destination",
        metrics: telemetry.metrics,
        accessLog: telemetry.serverAccessLog,
        localServiceFor: localService,
        // server spans: the inbound trace filter makes them for sampled requests (filters/inbound-trace.ts)
        spans: telemetry.spans,
        reportSpans: telemetry.reportServerSpans,
        port: appPort,
      }),
      localId: identity && (() => identity.spiffeId.toString()),
      security,
      appPort,
      onDecision: (decision) => telemetry.dietmesh.authz(decision),
    });
    const appAddress = parseListenAddress(app)!;
    const handler = inboundTunnels(inbound, {
      app: appAddress,
      appPort,
      security,
      connect: connectTcp,
      metrics: tcpMetrics,
      serviceFor: localService,
      onDecision: (decision) => telemetry.dietmesh.authz(decision),
      log,
      accessLog: telemetry.serverAccessLog,
    });
    inboundServer = await serveInbound({ address: inboundAddr, handler, identity, appPort, limits, mode: (port) => security().peerMode(port), log });
    servers.push(inboundServer);
  }

  let consul: ConsulRegistration | undefined;
  await core.serve({
    dataServers: () => servers,
    describe: () => ({ kind: "sidecar", namespace, serviceAccount, labels, runtime: platform.name, listeners: servers.map((s) => `${s.hostname}:${s.port}`), identity: identity?.info() }),
    appHealth,
    appMetrics: appMetricsUrl ? appMetricsScraper(appMetricsUrl, upstreamClient, log) : undefined,
    close: () => consul?.stop(),
    readyDetail: () => `outbound ${outboundServer.hostname}:${outboundServer.port}, ` + (inboundServer ? `inbound ${inboundServer.hostname}:${inboundServer.port} → ${app}, ` : ""),
    async beforeReady(ready) {
      if (!consulAgent || !inboundServer) return;
      consul = await registerWithConsul({
        agent: consulAgent,
        name: labels.app ?? flags.strings["service-account"] ?? "workload",
        address: inboundServer.hostname,
        port: inboundServer.port,
        meta: labels,
        token: platform.env("CONSUL_HTTP_TOKEN"),
        ready,
        log,
      });
    },
  });
}

function appProbesFlag(value: string | undefined): AppHealth | undefined {
  if (value === undefined) return undefined;
  try {
    return createAppHealth(parseAppProbes(value), upstreamClient);
  } catch (error) {
    throw new UsageError(`--app-probes: ${(error as Error).message}`);
  }
}
