// `dietmesh gateway`: serves the Gateway resources whose selector matches its labels, one listener
// per server port, and the VirtualServices bound to them. Listeners follow config changes: a new
// server port opens a listener, a removed one closes. Identity, telemetry, config watch, admin and
// drain come from the shared proxy core (proxy-core.ts).
import { platform, type Server } from "../platform/index.ts";
import { lendReads } from "../platform/read-buffers.ts";
import { gatewayHandler } from "../filters/chains.ts";
import { listenData, listenMeshData, parseListenAddress, type ListenAddress } from "../exchange/listener.ts";
import { serverCertificates, type ServerCertificates } from "../security/server-certificates.ts";
import { gatewayTlsErrors, httpsServersByPort, tlsConfigKey } from "./gateway-tls.ts";
import type { RouteTable } from "../model/route-table.ts";
import { parseFlags, parseLabels, UsageError, type CommandSpec } from "./args.ts";
import { configureLogging, createLogger, logFlags } from "./log.ts";
import { drainFlag } from "./lifecycle.ts";
import { accessLogFlag, clusterIdFlag, configFlag, registryFlags, traceFlags } from "./sidecar-spec.ts";
import { identityFlags } from "./identity-setup.ts";
import { address, dnsFlags, headLimitFlags, startProxyCore } from "./proxy-core.ts";
import { credentialsDirFlag } from "./credential-setup.ts";
import { compileWorkloadSecurity, createJwksCache } from "../security/policy/index.ts";
import { fetchJwks } from "./security-setup.ts";
import { systemClock } from "../lib/clock.ts";
import type { MeshConfig } from "../config/types.ts";
import { grpcWebPorts, h2cPorts } from "./gateway-h2c.ts";
import { h2Streams, listenHttp2 } from "../exchange/http2/listen.ts";
import { localReply } from "../exchange/local-reply.ts";
import { ProxyError } from "../exchange/errors.ts";
import { startTcpPorts } from "./gateway-tcp.ts";
import { gatewayXfccFilter } from "../filters/gateway-xfcc.ts";

export const gatewaySpec: CommandSpec = {
  name: "gateway",
  summary: "Run an ingress gateway for the Gateway resources that select it.",
  usage: "dietmesh gateway --config PATH... [--bind PORT=HOST:PORT ...] [flags]",
  flags: [
    configFlag,
    { name: "bind", kind: "list", value: "PORT=HOST:PORT", help: "serve Gateway server port PORT on HOST:PORT (unbound ports listen on 0.0.0.0:PORT)" },
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "admin listener: /ready, /config_dump, /clusters, /dashboard" },
    { name: "dashboard-peer", kind: "list", value: "HOST:PORT", help: "another proxy's admin listener whose traffic /dashboard also draws (its /dashboard/reading.json)" },
    { name: "labels", kind: "string", value: "k=v,...", default: "app=istio-ingressgateway,istio=ingressgateway", help: "this gateway's labels, matched against Gateway selectors; app (and version) name its workload in the metrics, as Istio's ingress gateway's do" },
    ...registryFlags,
    ...traceFlags,
    clusterIdFlag,
    drainFlag,
    accessLogFlag,
    { name: "namespace", kind: "string", value: "NS", default: "default", help: "namespace of resources that name none; also the gateway's own (its identity)" },
    { name: "service-account", kind: "string", value: "SA", default: "istio-ingressgateway-service-account", help: "the gateway's service account (its identity, with --ca-dir or --ca)" },
    credentialsDirFlag,
    ...identityFlags,
    ...headLimitFlags,
    ...dnsFlags,
    ...logFlags,
    { name: "status", kind: "string", value: "HOST:PORT", help: "status listener for probes and Prometheus (Istio's 15020/15021): /healthz/ready and /stats/prometheus only, so the admin API can stay on loopback" },
  ],
};

function parseBinds(values: string[]): Map<number, ListenAddress> {
  const binds = new Map<number, ListenAddress>();
  for (const value of values) {
    const eq = value.indexOf("=");
    const port = Number(value.slice(0, eq));
    const addr = eq > 0 ? parseListenAddress(value.slice(eq + 1)) : undefined;
    if (!Number.isInteger(port) || port < 1 || port > 65535 || !addr) throw new UsageError(`--bind: expected PORT=HOST:PORT, got "${value}"`);
    binds.set(port, addr);
  }
  return binds;
}

export async function runGateway(argv: string[]): Promise<void> {
  const flags = parseFlags(gatewaySpec, argv);
  configureLogging(flags);
  const log = createLogger("gateway");
  lendReads(true); // this process runs no application code that could keep a streamed chunk (read-buffers.ts)
  if (!flags.lists.config.length && !flags.lists.registry.some((r) => r.startsWith("kubernetes"))) throw new UsageError("--config is required (a file or directory of Istio YAML) unless --registry kubernetes reads it from the cluster");
  const binds = parseBinds(flags.lists.bind);
  address("admin", flags.strings.admin);
  if (flags.strings.status) address("status", flags.strings.status);
  const namespace = flags.strings.namespace ?? "default";
  const labels = parseLabels(flags.strings.labels);
  const serviceAccount = flags.strings["service-account"] ?? "istio-ingressgateway-service-account";
  const dashboardPeers = flags.lists["dashboard-peer"].map((peer) => (parseListenAddress(peer) ? peer : badPeer(peer)));
  /** per Gateway server port: its listener (once open) and, for HTTPS, the certificates it serves */
  interface PortListener {
    server?: Server;
    tlsKey: string;
    certs?: ServerCertificates;
    /** HTTP/2 with prior knowledge: a Gateway server here says HTTP2 or GRPC */
    h2c?: boolean;
    /** a Gateway server here says GRPC-WEB: the chain translates gRPC-Web */
    grpcWeb?: boolean;
  }
  const listeners = new Map<number, PortListener>();
  const proxy = { kind: "gateway" as const, namespace, labels };
  // RequestAuthentication and AuthorizationPolicy that select the gateway; none → no per-request work
  const jwksCache = createJwksCache({ clock: systemClock, fetchJwks });
  let reconcile: (table: RouteTable) => void = () => {};
  const core = await startProxyCore({
    kind: "gateway",
    flags,
    namespace,
    labels,
    serviceAccount,
    log,
    securityFor: (config: MeshConfig) =>
      config.authorizationPolicies.length || config.requestAuthentications.length
        ? compileWorkloadSecurity(config, { namespace, labels }, { clock: systemClock, jwksCache })
        : undefined,
    onSwap: (table) => reconcile(table),
    check: (config) => gatewayTlsErrors(config, proxy),
  });
  const { deps, identity, telemetry, limits, watch } = core;
  // ports whose Gateway servers say TCP (MONGO, REDIS, MYSQL): byte streams, not HTTP (gateway-tcp.ts)
  // credentialName: the folder (watched by server-certificates.ts itself), else the Secrets' source
  const credentialsDir = flags.strings["credentials-dir"];
  const certificateSources = { identity, credentialsDir, credentials: credentialsDir ? undefined : core.credentials, noCredentials: CREDENTIALS_REFUSAL };
  const tcp = startTcpPorts({ binds, table: watch.table, clusters: deps.clusters, telemetry, log });

  function open(port: number, entry: PortListener): void {
    const addr = binds.get(port) ?? { hostname: "0.0.0.0", port };
    const handler = gatewayHandler({ table: watch.table, select: (t) => t.gatewayPorts.get(port), port, deps, security: core.security, grpcWeb: entry.grpcWeb, filters: [gatewayXfccFilter()], onDecision: (decision) => telemetry.dietmesh.authz(decision) });
    const opened = (server: Server, kind: string) => {
      if (listeners.get(port) !== entry) return void server.stop(); // replaced or closed meanwhile
      entry.server = server;
      log(`gateway port ${port} listening on ${server.hostname}:${server.port}${kind}`);
    };
    const failed = (error: unknown) => log(`gateway port ${port}: cannot listen on ${addr.hostname}:${addr.port}: ${(error as Error).message}`, "error");
    if (entry.h2c) return void listenHttp2({ ...addr, handler, log, limits }).then((server) => opened(server, " (h2c)"), failed);
    if (!entry.certs) {
      try {
        opened(listenData(addr, handler, log, { limits }), "");
      } catch (error) {
        failed(error);
      }
      return;
    }
    // TLS only, the certificate chosen by SNI; open once the files have been read, so the first
    // clients are not refused for a certificate still loading. ALPN offers h2 and http/1.1, as an
    // Istio gateway's HTTPS listener does: h2 streams go through the same gateway chain, with the
    // same head limits as every other port.
    const h2 = h2Streams(
      handler,
      (error) => {
        log(`gateway port ${port} h2: ${(error as Error)?.stack ?? error}`, "error");
        return localReply(new ProxyError("internal"));
      },
      limits,
    );
    const tlsOnly = { plaintext: false, tls: true, clientCertificate: false, http2: h2 };
    void entry.certs.ready
      .then(() => listenMeshData(addr, handler, log, { credentials: () => null, accept: () => tlsOnly, serverTls: (record) => entry.certs!.select(record), limits }))
      .then((server) => opened(server, " (HTTPS)"), failed);
  }

  async function close(port: number, entry: PortListener): Promise<void> {
    entry.certs?.close();
    await entry.server?.stop();
  }

  reconcile = (table: RouteTable) => {
    const tcpClosing = tcp.closeGone(table);
    const httpClosing = new Map<number, Promise<void>>();
    const https = httpsServersByPort(table.config, proxy);
    const h2c = h2cPorts(table.config, proxy);
    const grpcWeb = grpcWebPorts(table.config, proxy);
    for (const port of table.gatewayPorts.keys()) {
      const tls = https.get(port);
      // the chain is built with the listener: a port turning GRPC-WEB (or back) is reopened
      const tlsKey = tlsConfigKey(tls) + (!tls && h2c.has(port) ? "h2c" : "") + (grpcWeb.has(port) ? "+grpc-web" : "");
      const existing = listeners.get(port);
      if (existing?.tlsKey === tlsKey) continue;
      if (existing?.certs && tls && existing.grpcWeb === grpcWeb.has(port)) {
        // other HTTPS settings on the same port: the same listener serves the new certificates once
        // they have loaded; until then the previous ones (no connection is refused for the swap)
        const previous = existing.certs;
        const next = serverCertificates(tls, log, certificateSources);
        existing.tlsKey = tlsKey;
        void next.ready.then(() => {
          if (existing.tlsKey !== tlsKey || listeners.get(port) !== existing) return next.close();
          existing.certs = next;
          previous.close();
        });
        continue;
      }
      const entry: PortListener = { tlsKey, certs: tls ? serverCertificates(tls, log, certificateSources) : undefined, h2c: !tls && h2c.has(port), grpcWeb: grpcWeb.has(port) };
      listeners.set(port, entry);
      const freed = tcpClosing.get(port);
      if (!existing && freed) void freed.then(() => listeners.get(port) === entry && open(port, entry));
      else if (!existing) open(port, entry);
      else {
        // HTTP ↔ HTTPS: the old listener must let go of the port first
        log(`gateway port ${port} changes between HTTP and HTTPS (or to or from GRPC-WEB): reopening`);
        void close(port, existing).then(() => listeners.get(port) === entry && open(port, entry));
      }
    }
    for (const [port, entry] of listeners) {
      if (table.gatewayPorts.has(port)) continue;
      listeners.delete(port);
      httpClosing.set(port, close(port, entry));
      log(`gateway port ${port} closed (no Gateway server uses it any more)`);
    }
    tcp.openNew(table, (port) => httpClosing.get(port));
  };
  reconcile(watch.table.current);
  // each HTTPS server's certificate in service, read at each scrape (a renewal or a removed port shows at once)
  telemetry.dietmesh.certificateSource(() => [...listeners.values()].flatMap((entry) => entry.certs?.expiries() ?? []));

  await core.serve({
    dataServers: () => [...[...listeners.values()].flatMap((entry) => (entry.server ? [entry.server] : [])), ...tcp.servers()],
    describe: () => ({ kind: "gateway", namespace, serviceAccount, identity: identity?.info(), labels, runtime: platform.name, listeners: Object.fromEntries([...[...listeners].flatMap(([p, e]) => (e.server ? [[p, `${e.server.hostname}:${e.server.port}${e.certs ? " https" : ""}`]] : [])), ...tcp.describe()]) }),
    dashboardPeers,
  });
}

/** why credentialName cannot be served with neither --credentials-dir nor --registry kubernetes */
const CREDENTIALS_REFUSAL = "credentialName needs --credentials-dir DIR (DIR/<name>/tls.crt, tls.key, ca.crt, or DIR/<name>-cacert/ca.crt) or --registry kubernetes (the Secret in the gateway's namespace)";

function badPeer(value: string): never {
  throw new UsageError(`--dashboard-peer: expected HOST:PORT, got "${value}"`);
}
