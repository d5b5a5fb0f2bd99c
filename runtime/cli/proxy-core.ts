// What a sidecar and a gateway share, built once in this order: the workload identity, telemetry,
// the request path's deps (complete and frozen before any listener opens), the workload's security
// policies (recompiled on every accepted config), the config watch, and then — once the caller has
// opened its data listeners — the admin and status listeners and the drain on SIGTERM.
import { platform, type Server } from "../platform/index.ts";
import { parseListenAddress, type ListenAddress } from "../exchange/listen-address.ts";
import type { ConfigWatch, ConfigWatchOptions } from "../discovery/config-watch.ts";
import { parseRegistrySpec } from "../discovery/registry-spec.ts";
import { defaultClusters, defaultDeps } from "../router/default-deps.ts";
import type { PipelineDeps } from "../router/pipeline-deps.ts";
import { createObserver } from "../telemetry/observe.ts";
import type { AppHealth } from "../admin/app-health.ts";
import type { RouteTable } from "../model/route-table.ts";
import type { MeshConfig } from "../config/types.ts";
import type { ConfigError } from "../config/errors.ts";
import type { WorkloadSecurity } from "../security/policy/index.ts";
import type { WorkloadIdentity } from "../security/workload-identity.ts";
import { UsageError, type FlagSpec, type ParsedFlags } from "./args.ts";
import type { HeadLimits } from "../exchange/http1/request-head.ts";
import { setupIdentity } from "./identity-setup.ts";
import { earliestNotAfter } from "../security/certificate.ts";
import { setupTelemetry, type ProxyTelemetry } from "./telemetry-setup.ts";
import { encodePeerMetadata } from "../telemetry/peer-metadata.ts";
import { drainMs, onTermination, type Lifecycle } from "./lifecycle.ts";
import { createDnsResolver, dnsServerProblem } from "../platform/dns.ts";
import { credentialNameErrors, setupCredentials } from "./credential-setup.ts";
import type { CredentialSource } from "../security/credential-source.ts";

export interface ProxyCoreOptions {
  kind: "sidecar" | "gateway";
  flags: ParsedFlags;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  log: (m: string) => void;
  /** this workload's policies for a config (undefined: none apply) */
  securityFor(config: MeshConfig): WorkloadSecurity | undefined;
  /** after the shared work of an accepted config (the gateway opens and closes ports here) */
  onSwap?(table: RouteTable): void;
  /** what this proxy cannot serve in a valid config (the gateway's TLS on this runtime): refused like a load error */
  check?(config: MeshConfig): ConfigError[];
  /** the config from somewhere else than files (the library's `resources`); default: the file watch */
  startWatch?(options: ConfigWatchOptions): Promise<ConfigWatch>;
}

export interface ProxyCore {
  readonly identity: WorkloadIdentity | undefined;
  /** credentialName's material (--credentials-dir, or Secrets with --registry kubernetes); undefined: none */
  readonly credentials: CredentialSource | undefined;
  readonly deps: PipelineDeps;
  readonly telemetry: ProxyTelemetry;
  /** the request-head limits of every data listener (--max-request-headers[-kb]), each refusal counted in telemetry */
  readonly limits: HeadLimits;
  readonly watch: ConfigWatch;
  /** the policies in force now */
  security(): WorkloadSecurity | undefined;
  /** opens admin (and status, with --status) and arms the drain; the proxy is ready after it */
  serve(options: ServeOptions): Promise<Lifecycle>;
}

export interface ServeOptions {
  /** the data listeners, read at shutdown (gateway ports come and go) */
  dataServers(): Server[];
  /** what /config_dump says about the proxy */
  describe(): Record<string, unknown>;
  dashboardPeers?: string[];
  appHealth?: AppHealth;
  /** the app's metrics merged on the status listener */
  appMetrics?: () => Promise<string>;
  /** more to stop on shutdown (Consul deregistration) */
  close?(): Promise<void> | void;
  /** the data listeners for the "ready on" line, e.g. "outbound 127.0.0.1:15001, " */
  readyDetail?(): string;
  /** once the admin listener is up, before the proxy counts as ready */
  beforeReady?(ready: () => boolean): Promise<void>;
}

/** Envoy's max_request_headers_kb and max_headers_count, for every data listener */
export const headLimitFlags: FlagSpec[] = [
  { name: "max-request-headers-kb", kind: "string", value: "KB", default: "60", help: "largest request head (request line and headers) a data listener takes, in KiB (Envoy's max_request_headers_kb); larger → 431 on HTTP/1.1, a stream reset on HTTP/2 (as Envoy)" },
  { name: "max-request-headers", kind: "string", value: "N", default: "100", help: "most request headers a data listener takes (Envoy's max_headers_count); more → 431 on HTTP/1.1, a stream reset on HTTP/2 (as Envoy)" },
];

/** Envoy's dns_resolvers: where the names of DNS ServiceEntries are resolved */
export const dnsFlags: FlagSpec[] = [
  { name: "dns-server", kind: "list", value: "IP[:PORT]", help: "resolve DNS and DNS_ROUND_ROBIN ServiceEntries with this DNS server (A/AAAA, re-resolved on the records' TTL) instead of the system resolver (getaddrinfo, every 5 s)" },
];

export function headLimits(flags: ParsedFlags): HeadLimits {
  const kb = Number(flags.strings["max-request-headers-kb"] ?? "60");
  const count = Number(flags.strings["max-request-headers"] ?? "100");
  // Envoy's bounds: 1..8192 KiB, at least 1 header
  if (!Number.isInteger(kb) || kb < 1 || kb > 8192) throw new UsageError(`--max-request-headers-kb: expected 1-8192, got "${flags.strings["max-request-headers-kb"]}"`);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`--max-request-headers: expected a whole number of at least 1, got "${flags.strings["max-request-headers"]}"`);
  return { maxHeadBytes: kb * 1024, maxHeaders: count };
}

export function address(name: string, value: string | undefined): ListenAddress {
  const parsed = value ? parseListenAddress(value) : undefined;
  if (!parsed) throw new UsageError(`--${name}: expected HOST:PORT, got "${value}"`);
  return parsed;
}

function badRegistry(value: string): never {
  throw new UsageError(`--registry: expected static, consul[=URL] or kubernetes[=NAMESPACE], got "${value}"`);
}

export async function startProxyCore(options: ProxyCoreOptions): Promise<ProxyCore> {
  const { flags, namespace, labels, log } = options;
  // a malformed server is a usage error at start (exit 2), for the sidecar and the gateway alike
  const badDns = (flags.lists["dns-server"] ?? []).map(dnsServerProblem).find(Boolean);
  if (badDns) throw new UsageError(`--dns-server: ${badDns}`);
  if (flags.strings.kubeconfig && !flags.lists.registry.some((r) => r === "kubernetes" || r.startsWith("kubernetes="))) throw new UsageError("--kubeconfig goes with --registry kubernetes (nothing else reads a cluster)");
  const bounds = headLimits(flags);
  let telemetry: ProxyTelemetry | undefined;
  const identity = await setupIdentity(flags, { namespace, serviceAccount: options.serviceAccount }, log, (info) => telemetry?.dietmesh.certificateExpiry("workload", info.notAfter));
  const credentials = await setupCredentials(flags, namespace, log);
  const clusters = defaultClusters(identity && { credentials: identity.current, trustDomain: identity.spiffeId.trustDomain }, credentials);
  const newRequestId = () => crypto.randomUUID();
  telemetry = setupTelemetry({
    namespace,
    labels,
    principal: identity?.spiffeId.toString(),
    clusterId: flags.strings["cluster-id"],
    accessLogFormat: flags.strings["access-log"],
    otlpEndpoint: flags.strings["otlp-endpoint"],
    samplingPercent: flags.strings["trace-sampling"],
    clusters: () => clusters.all(),
    newRequestId,
    log,
  });
  const t = telemetry;
  const limits: HeadLimits = { ...bounds, overflowed: (codec) => t.dietmesh.requestHeaderOverflow(codec) };
  const deps = defaultDeps(log, {
    clusters,
    newRequestId,
    tracer: t.tracer,
    observer: createObserver({ reporter: "source", metrics: t.metrics, accessLog: t.accessLog, spans: t.spans, reportSpans: t.reportClientSpans }),
    peerMetadata: encodePeerMetadata(t.self),
  });
  if (identity) {
    t.dietmesh.certificateExpiry("workload", identity.info().notAfter);
    // the mesh's root, as "root": read at each scrape (a rotated trust bundle shows at once), parsed once per bundle
    let bundle = { pem: "", notAfter: undefined as number | undefined };
    t.dietmesh.certificateSource(() => {
      const pem = identity.current().rootCertsPem;
      if (pem !== bundle.pem) bundle = { pem, notAfter: earliestNotAfter([pem]) };
      return bundle.notAfter === undefined ? [] : [["root", bundle.notAfter]];
    });
  }

  let security: WorkloadSecurity | undefined;
  const accepted = (table: RouteTable) => {
    security = options.securityFor(table.config);
    clusters.sync(table);
    t.onSwap(table);
  };
  const proxy = { kind: options.kind, namespace, labels, outboundTrafficPolicy: outboundTrafficPolicyFlag(flags.strings["outbound-traffic-policy"]) };
  // the file watch (its reader and config worker) loads only for a proxy that reads files: the
  // library with objects brings its own
  const watch = await (options.startWatch ?? (await import("../discovery/config-watch.ts")).startConfigWatch)({
    paths: flags.lists.config,
    namespace,
    registries: flags.lists.registry.map((value) => parseRegistrySpec(value, { kubeconfig: flags.strings.kubeconfig }) ?? badRegistry(value)),
    proxy,
    trustDomain: identity?.spiffeId.trustDomain,
    log,
    dns: createDnsResolver(flags.lists["dns-server"] ?? []),
    // a credentialName with no source to read it from is refused like any load error, at start
    // and on reload (the last good config stays): never served without its TLS
    check: (config) => [...(credentials ? [] : credentialNameErrors(config, proxy)), ...(options.check?.(config) ?? [])],
    onSwap: (table) => {
      accepted(table);
      t.dietmesh.configReload("accepted", Date.now());
      options.onSwap?.(table);
    },
    onReject: () => t.dietmesh.configReload("rejected", Date.now()),
    onRegistrySync: (registry, ok, atMs) => t.dietmesh.registrySync(registry, ok, atMs),
  }).catch((error: unknown) => {
    // a refused first config: the renewal timer must not keep a library's process alive
    identity?.stop();
    throw error;
  });
  accepted(watch.table.current);

  async function serve(serve: ServeOptions): Promise<Lifecycle> {
    let ready = false;
    const own: Server[] = [];
    const lifecycle = onTermination({
      // admin and status keep answering while draining (/ready and /healthz/ready say 503)
      servers: serve.dataServers,
      drainMs: drainMs(flags),
      close: async () => {
        watch.close();
        identity?.stop();
        credentials?.close();
        await serve.close?.();
      },
      log,
    });
    const isReady = () => ready && !lifecycle.draining() && watch.registry.synced();
    // loaded here, not with the module: the library (runtime/library) shares this core and opens
    // no admin listener, and Hono with the admin and dashboard is ~7 ms of its cold start
    const [{ createAdminApp }, { createStatusApp }, { listen }] = await Promise.all([import("../admin/admin.ts"), import("../admin/status.ts"), import("../exchange/listener.ts")]);
    const admin = createAdminApp({
      table: watch.table,
      ready: isReady,
      describe: () => ({ ...serve.describe(), dns: watch.dnsNames() }),
      quit: () => void lifecycle.shutdown(),
      clusters,
      prometheus: t.prometheus,
      appHealth: serve.appHealth,
      dashboardPeers: serve.dashboardPeers,
    });
    const adminServer = listen(address("admin", flags.strings.admin), (req) => admin.fetch(req), log);
    own.push(adminServer);
    if (flags.strings.status) {
      const status = createStatusApp({ ready: isReady, prometheus: t.prometheus, appHealth: serve.appHealth, appMetrics: serve.appMetrics });
      const statusServer = listen(address("status", flags.strings.status), (req) => status.fetch(req), log);
      own.push(statusServer);
      log(`status on ${statusServer.hostname}:${statusServer.port}`);
    }
    await serve.beforeReady?.(() => ready && !lifecycle.draining());
    ready = true;
    // tools and tests read the addresses from this line: keep its shape
    log(`ready on ${platform.name}: ${serve.readyDetail?.() ?? ""}admin ${adminServer.hostname}:${adminServer.port}`);
    return lifecycle;
  }

  return { identity, credentials, deps, telemetry: t, limits, watch, security: () => security, serve };
}

/** a sidecar's --outbound-traffic-policy (Istio's meshConfig.outboundTrafficPolicy.mode); unset: 404 NR for unknown hosts */
function outboundTrafficPolicyFlag(value: string | undefined): "ALLOW_ANY" | "REGISTRY_ONLY" | undefined {
  if (value === undefined || value === "ALLOW_ANY" || value === "REGISTRY_ONLY") return value;
  throw new UsageError(`--outbound-traffic-policy: expected ALLOW_ANY or REGISTRY_ONLY, got "${value}"`);
}
