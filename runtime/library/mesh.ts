// The mesh in process (`import { createMesh } from "dietmesh"`): what a sidecar does, for a
// workload that cannot run one — a serverless function, an edge handler, a single-process app. It is
// the sidecar itself minus its sockets: the same proxy core (identity, telemetry, config and
// registry watches, built from the same flags through the sidecar's own flag table), the same
// outbound chain behind mesh.fetch, and the same inbound chain in front of the app's handler
// (mesh.serve for a server the app already runs, mesh.listen for an mTLS-capable listener of its own).
import { inboundHandler, outboundHandler } from "../filters/chains.ts";
import { toHandlerTerminal, type AppHandler } from "../filters/to-handler.ts";
import { toWebResponse } from "../exchange/web-request.ts";
import type { HttpRequest } from "../exchange/types.ts";
import { parseListenAddress } from "../exchange/listener.ts";
import { authorityPort } from "../model/hosts.ts";
import { createObserver } from "../telemetry/observe.ts";
import { localServiceLookup } from "../telemetry/local-service.ts";
import { compileWorkloadSecurity, createJwksCache } from "../security/policy/index.ts";
import { systemClock } from "../lib/clock.ts";
import type { MeshConfig } from "../config/types.ts";
import type { ConnInfo } from "../platform/types.ts";
import type { Server } from "../platform/index.ts";
import { parseFlags } from "../cli/args.ts";
import { sidecarSpec } from "../cli/sidecar.ts";
import { headLimits, startProxyCore } from "../cli/proxy-core.ts";
import { fetchJwks } from "../cli/security-setup.ts";
import { serveInbound } from "../cli/inbound-setup.ts";

export type { AppHandler, CallerInfo } from "../filters/to-handler.ts";

export interface MeshOptions {
  /** Istio YAML files or folders, watched for changes (as the sidecar's --config) */
  config?: string[];
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

export async function createMesh(options: MeshOptions): Promise<Mesh> {
  const flags = parseFlags(sidecarSpec, argvFor(options));
  const namespace = flags.strings.namespace ?? "default";
  const labels = options.labels ?? {};
  const serviceAccount = flags.strings["service-account"] ?? "default";
  const log = options.log ?? ((message: string) => console.error(`${new Date().toISOString()} dietmesh mesh: ${message}`));
  const jwksCache = createJwksCache({ clock: systemClock, fetchJwks });
  const core = await startProxyCore({
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
  const destination = createObserver({
    reporter: "destination",
    metrics: telemetry.metrics,
    accessLog: telemetry.accessLog,
    localServiceFor: localServiceLookup({ snapshot: () => watch.table.current.snapshot, namespace, labels }),
  });
  const listeners: Server[] = [];
  let closed = false;

  function inbound(app: AppHandler, appPort: number) {
    return inboundHandler({
      app: "in-process",
      deps,
      observer: destination,
      localId: identity && (() => identity.spiffeId.toString()),
      security,
      appPort,
      onDecision: (decision) => telemetry.dietmesh.authz(decision),
      terminal: toHandlerTerminal(app, log),
    });
  }

  return {
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
      const parsed = parseListenAddress(address);
      if (!parsed) throw new TypeError(`mesh.listen: expected HOST:PORT, got "${address}"`);
      const server = await serveInbound({ address: parsed, handler: inbound(app, parsed.port), identity, appPort: parsed.port, limits: headLimits(flags), mode: (port) => security().peerMode(port), log });
      listeners.push(server);
      return server;
    },
    async metrics() {
      return telemetry.registry.expose();
    },
    async close() {
      if (closed) return;
      closed = true;
      watch.close();
      identity?.stop();
      await Promise.all(listeners.map((server) => server.stop()));
      for (const state of deps.clusters.all()) state.pool.close();
    },
  };
}
