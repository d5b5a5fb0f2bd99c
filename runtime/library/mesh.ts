// The mesh in process (`import { createMesh } from "dietmesh"`): what a sidecar does, for a
// workload that cannot run one — a serverless function, an edge handler, a single-process app. It is
// the sidecar itself minus its sockets: the same proxy core (identity, telemetry, config and
// registry watches, built from the same flags through the sidecar's own flag table), the same
// outbound chain behind mesh.fetch, and the same inbound chain in front of the app's handler
// (mesh.serve for a server the app already runs, mesh.listen for an mTLS-capable listener of its own),
// and, when asked, the sidecar's admin listener (mesh.listenAdmin) for tools that read proxies:
// /ready, /config_dump, /stats/prometheus and the dashboard's reading, which a gateway merges.
import { inboundHandler, outboundHandler } from "../filters/chains.ts";
import { toHandlerTerminal, type AppHandler } from "../filters/to-handler.ts";
import { toWebResponse } from "../exchange/web-request.ts";
import type { HttpRequest } from "../exchange/types.ts";
import { platform } from "../platform/index.ts";
import { authorityPort } from "../model/hosts.ts";
import { createObserver } from "../telemetry/observe.ts";
import { localServiceLookup } from "../telemetry/local-service.ts";
import { compileWorkloadSecurity, createJwksCache } from "../security/policy/index.ts";
import { systemClock } from "../lib/clock.ts";
import type { MeshConfig } from "../config/types.ts";
import type { ConnInfo } from "../platform/types.ts";
import type { Server } from "../platform/index.ts";
import { parseFlags } from "../cli/args.ts";
import { sidecarSpec } from "../cli/sidecar-spec.ts";
import { startProxyCore } from "../cli/proxy-core.ts";
import { fetchJwks } from "../cli/security-setup.ts";
import type { startConfigWatch } from "../discovery/config-watch.ts";
import { MeshConfigError, startResourceWatch, type ResourceWatch } from "./resource-watch.ts";

export type { AppHandler, CallerInfo } from "../filters/to-handler.ts";

export interface MeshOptions {
  /** Istio YAML files or folders, watched for changes (as the sidecar's --config) */
  config?: string[];
  /**
   * … or Istio resources as parsed objects (what a YAML or JSON parser gives), for a runtime with no
   * file system: validated as files are; their ServiceEntries and WorkloadEntries are the static
   * registry. Replaced whole by mesh.reload(resources).
   */
  resources?: readonly unknown[];
  /** service discovery, as the sidecar's --registry: "static", "consul=URL", "kubernetes[=NS]" */
  registry?: string[];
  namespace?: string;
  serviceAccount?: string;
  /** the workload's labels (sourceLabels matches, policy selectors, metrics) */
  labels?: Record<string, string>;
  /** identity from a local CA folder (as --ca-dir) … */
  caDir?: string;
  /** … or from `dietmesh ca serve` (as --ca, --ca-root, --token) */
  ca?: { url: string; root: string; token: string };
  /**
   * Validate config files in a short-lived worker, as the sidecar does on Bun: zod, the YAML parser
   * and the schemas then leave with it (~7 MB less RSS held), at ~20 % more CPU for each load and a
   * slower cold start. Default false: the library loads files in process (Deno always does).
   */
  configWorker?: boolean;
  /** access log on stdout: "text" or "json" */
  accessLog?: "off" | "text" | "json";
  /** where the mesh's own log lines go (default: stderr, as the sidecar's) */
  log?: (message: string) => void;
}

export interface Mesh {
  /** an outbound call through the mesh: routing, faults, retries, timeouts, breakers, mTLS, metrics */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * The inbound side around the app's handler, for a server the app runs itself (plaintext: policies
   * that need a peer certificate see none, as on a PERMISSIVE port's plaintext connections).
   */
  serve(app: AppHandler): (request: Request, caller?: { remoteAddress?: string }) => Promise<Response>;
  /** the inbound side on a listener of its own: mTLS with the workload's identity as a sidecar's inbound port */
  listen(options: { address: string; app: AppHandler }): Promise<Server>;
  /**
   * The sidecar's admin listener (plaintext; keep it on loopback): /ready, /config_dump, /clusters,
   * /stats/prometheus and /dashboard with /dashboard/reading.json, which a gateway started with
   * `--dashboard-peer HOST:PORT` draws in the mesh's graph. POST /quitquitquit closes the mesh.
   */
  listenAdmin(options: { address: string }): Promise<Server>;
  /**
   * Replaces the config of a mesh made with `resources`: in service when this resolves. A set with
   * any error rejects with a MeshConfigError (each error naming resources[i], kind, name and field
   * path) and the last good config stays in service.
   */
  reload(resources: readonly unknown[]): Promise<void>;
  /** Prometheus text with Istio's metrics, as a sidecar's /stats/prometheus */
  metrics(): Promise<string>;
  /** stops watching, closes connections and listeners; nothing of the mesh keeps the process alive after it */
  close(): Promise<void>;
}

/** the sidecar's flags for these options: one table of defaults and checks for both */
function argvFor(options: MeshOptions): string[] {
  const argv: string[] = [];
  for (const path of options.config ?? []) argv.push("--config", path);
  for (const source of options.registry ?? []) argv.push("--registry", source);
  if (options.namespace) argv.push("--namespace", options.namespace);
  if (options.serviceAccount) argv.push("--service-account", options.serviceAccount);
  const labels = Object.entries(options.labels ?? {});
  if (labels.length) argv.push("--labels", labels.map(([k, v]) => `${k}=${v}`).join(","));
  if (options.caDir) argv.push("--ca-dir", options.caDir);
  if (options.ca) argv.push("--ca", options.ca.url, "--ca-root", options.ca.root, "--token", options.ca.token);
  if (options.accessLog) argv.push("--access-log", options.accessLog);
  return argv;
}

const LOCAL_CALLER: ConnInfo = Object.freeze({ remoteAddress: "127.0.0.1", remotePort: 0 });

/** what `resources` allows beside it; throws the TypeError a mistake deserves */
function checkResources(options: MeshOptions): void {
  if (!options.resources) return;
  if (!Array.isArray(options.resources)) throw new TypeError("createMesh: resources must be an array of Istio resources (parsed objects)");
  if (options.config?.length) throw new TypeError("createMesh: config (files) and resources (objects) are two ways to give the config; give one");
  // the objects' ServiceEntries are the static registry; Consul's catalog (HTTP) may join them, but
  // not a registry that carries Istio config (Kubernetes, Consul ?kv=): the objects are the config
  const other = (options.registry ?? []).find((r) => !(r === "static" || ((r === "consul" || r.startsWith("consul=")) && !/[?&]kv=/.test(r))));
  if (other) throw new TypeError(`createMesh: with resources, the registry is the objects' own ServiceEntries and WorkloadEntries ("static"), and Consul's catalog beside them; "${other}" is not supported (it carries config, or reads files)`);
}

export async function createMesh(options: MeshOptions): Promise<Mesh> {
  checkResources(options);
  const flags = parseFlags(sidecarSpec, argvFor(options));
  const namespace = flags.strings.namespace ?? "default";
  const labels = options.labels ?? {};
  const serviceAccount = flags.strings["service-account"] ?? "default";
  const log = options.log ?? ((message: string) => console.error(`${new Date().toISOString()} dietmesh mesh: ${message}`));
  const jwksCache = createJwksCache({ clock: systemClock, fetchJwks });
  let fromObjects: ResourceWatch | undefined;
  const startWatch = options.resources
    ? async (watchOptions: Parameters<typeof startResourceWatch>[1]) => (fromObjects = await startResourceWatch(options.resources!, watchOptions))
    : async (watchOptions: Parameters<typeof startConfigWatch>[0]) => (await import("../discovery/config-watch.ts")).startConfigWatch({ ...watchOptions, worker: options.configWorker ?? false });
  const core = await startProxyCore({
    startWatch,
    kind: "sidecar",
    flags,
    namespace,
    labels,
    serviceAccount,
    log,
    securityFor: (config: MeshConfig) => compileWorkloadSecurity(config, { namespace, labels }, { clock: systemClock, jwksCache }),
  });
  const { deps, identity, telemetry, watch } = core;
  const security = () => core.security()!;
  const outbound = outboundHandler({ table: watch.table, select: (t) => t.outbound, port: (authority) => authorityPort(authority) ?? 80, deps });
  const localServiceFor = localServiceLookup({ snapshot: () => watch.table.current.snapshot, namespace, labels });
  const listeners: Server[] = [];
  const adminServers: Server[] = [];
  const closing = new AbortController();
  let closed = false;

  function inbound(app: AppHandler, appPort: number) {
    return inboundHandler({
      app: "in-process",
      deps,
      // one per listener: server spans name its port (OTEL_EXPORTER_OTLP_* turn export on)
      observer: createObserver({ reporter: "destination", metrics: telemetry.metrics, accessLog: telemetry.serverAccessLog, localServiceFor, spans: telemetry.spans, reportSpans: telemetry.reportServerSpans, port: appPort }),
      localId: identity && (() => identity.spiffeId.toString()),
      security,
      appPort,
      onDecision: (decision) => telemetry.dietmesh.authz(decision),
      terminal: toHandlerTerminal(app, log),
    });
  }

  const mesh: Mesh = {
    async fetch(input, init) {
      if (closed) throw new TypeError("mesh.fetch after mesh.close()");
      const request = input instanceof Request && init === undefined ? input : new Request(input, init);
      const url = new URL(request.url);
      if (url.protocol !== "http:") throw new TypeError(`mesh.fetch: ${url.protocol} URLs are not routed by the mesh (call http://service:port; mTLS is the mesh's)`);
      const headers = new Headers(request.headers);
      headers.set("host", url.host);
      const call: HttpRequest = { method: request.method, url: request.url, headers, body: request.body };
      return toWebResponse(await outbound(call, LOCAL_CALLER));
    },
    serve(app) {
      const handler = inbound(app, 0);
      return async (request, caller) => {
        // a server hands requests with the Host the client sent; a Request made in code has none
        const headers = request.headers.has("host") ? request.headers : new Headers(request.headers);
        if (headers !== request.headers) headers.set("host", new URL(request.url).host);
        const served: HttpRequest & { received: Request } = { method: request.method, url: request.url, headers, body: request.body, received: request };
        return toWebResponse(await handler(served, caller?.remoteAddress ? { remoteAddress: caller.remoteAddress, remotePort: 0 } : LOCAL_CALLER));
      };
    },
    async listen({ address, app }) {
      // the listeners load when a mesh first listens: most never do (docs/performance.md)
      const [{ parseListenAddress }, { serveInbound }] = await Promise.all([import("../exchange/listener.ts"), import("../cli/inbound-setup.ts")]);
      const parsed = parseListenAddress(address);
      if (!parsed) throw new TypeError(`mesh.listen: expected HOST:PORT, got "${address}"`);
      const server = await serveInbound({ address: parsed, handler: inbound(app, parsed.port), identity, appPort: parsed.port, limits: core.limits, mode: (port) => security().peerMode(port), log });
      listeners.push(server);
      return server;
    },
    async listenAdmin({ address }) {
      const { listen: listenPlain, parseListenAddress } = await import("../exchange/listener.ts");
      const parsed = parseListenAddress(address);
      if (!parsed) throw new TypeError(`mesh.listenAdmin: expected HOST:PORT, got "${address}"`);
      if (closed) throw new TypeError("mesh.listenAdmin after mesh.close()");
      // loaded on demand, as the sidecar does: Hono and the dashboard are no part of a cold start
      const { createAdminApp } = await import("../admin/admin.ts");
      const admin = createAdminApp({
        table: watch.table,
        ready: () => !closed && watch.registry.synced(),
        describe: () => ({
          kind: "library", namespace, serviceAccount, labels, runtime: platform.name,
          listeners: listeners.map((s) => `${s.hostname}:${s.port}`), identity: identity?.info(), dns: watch.dnsNames(),
        }),
        quit: () => void mesh.close(),
        clusters: deps.clusters,
        prometheus: telemetry.prometheus,
      });
      // an open dashboard's event stream ends with the mesh (Deno's forced stop leaves it running)
      const server = listenPlain(parsed, (request) => admin.fetch(new Request(request, { signal: AbortSignal.any([request.signal, closing.signal]) })), log);
      adminServers.push(server);
      return server;
    },
    async reload(resources) {
      if (closed) throw new TypeError("mesh.reload after mesh.close()");
      if (!fromObjects) throw new TypeError("mesh.reload(resources): this mesh reads its config from files (and reloads them itself when they change)");
      if (!Array.isArray(resources)) throw new TypeError("mesh.reload: expected an array of Istio resources (parsed objects)");
      const errors = await fromObjects.replace(resources);
      if (errors.length) throw new MeshConfigError(errors, "config change rejected, the last good config stays in service");
    },
    async metrics() {
      return telemetry.registry.expose();
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      watch.close();
      identity?.stop();
      core.credentials?.close();
      // an open dashboard holds an endless event stream: the admin listener does not wait for it
      await Promise.all([...listeners.map((server) => server.stop()), ...adminServers.map((server) => server.stop(true))]);
      // every pool, those a config change retired too (their 30-s grace timers would hold the process)
      deps.clusters.close();
    },
  };
  return mesh;
}
