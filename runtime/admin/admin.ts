// The admin listener (Envoy's port 15000): readiness, the active config and route table, the
// clusters with their endpoints, the live dashboard (dashboard-routes.ts), and a way to stop the
// process.
import { Hono } from "hono";
import type { Cluster, RouteConfig, RouteTable, TableRef } from "../model/route-table.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import { mountDashboard } from "./dashboard-routes.ts";
import type { AppHealth } from "./app-health.ts";
import { platform } from "../platform/index.ts";

export interface AdminOptions {
  table: TableRef;
  /** false until the first config is loaded and every listener is up */
  ready: () => boolean;
  /** what this process is, for /config_dump */
  describe: () => Record<string, unknown>;
  quit: () => void;
  /** live per-cluster state (pool, outlier detection, counters), when the process has it */
  clusters?: ClusterStates;
  /** Prometheus text exposition of every metric, when the process keeps them */
  prometheus?: () => Response;
  /** other proxies' admin addresses whose traffic the dashboard also draws (--dashboard-peer) */
  dashboardPeers?: readonly string[];
  /** the app's own probes, answered at /app-health/<container>/<livez|readyz|startupz> (--app-probes) */
  appHealth?: AppHealth;
}

const INDEX = `<!doctype html><meta charset="utf-8"><title>dietmesh admin</title>
<h1>dietmesh admin</h1><ul>
<li><a href="/dashboard">/dashboard</a>: live mesh dashboard</li>
<li><a href="/ready">/ready</a></li><li><a href="/stats/prometheus">/stats/prometheus</a></li>
<li><a href="/config_dump">/config_dump</a></li><li><a href="/clusters">/clusters</a></li>
</ul>`;

function clusterJson(c: Cluster, states?: ClusterStates) {
  const state = states?.peek(c.name);
  const outlier = new Map((state?.outlier.snapshot() ?? []).map((h) => [h.address, h]));
  return {
    name: c.name,
    service: c.service.hostname,
    port: c.port.number,
    subset: c.subset ?? null,
    loadBalancer: c.policy.loadBalancer ?? { simple: "LEAST_REQUEST" },
    circuitBreakers: c.policy.connectionPool ?? {},
    outlierDetection: c.policy.outlierDetection ?? null,
    stats: state
      ? { ...state.counters, activeRequests: state.breaker.activeRequests, activeRetries: state.breaker.activeRetries, panic: state.outlier.panic(), pool: state.pool.stats() }
      : null,
    endpoints: c.hosts.map((h) => {
      const o = outlier.get(h.address);
      return {
        address: h.address,
        labels: h.endpoint.labels,
        weight: h.endpoint.weight ?? 1,
        healthy: h.healthy,
        activeRequests: h.active,
        lastConnectFailure: h.lastConnectFailure ?? null,
        outlier: o ? { ejected: o.ejected, ejectionCount: o.ejectionCount, ejectedUntil: o.ejectedUntil ?? null, consecutive5xx: o.consecutive5xx, consecutiveGateway: o.consecutiveGateway } : null,
      };
    }),
  };
}

function routeConfigJson(config: RouteConfig) {
  const hosts = new Map<string, { name: string; domains: readonly string[]; routes: string[] }>();
  const add = (vh: { name: string; domains: readonly string[]; routes: readonly { name: string }[] }) =>
    hosts.set(vh.name, { name: vh.name, domains: vh.domains, routes: vh.routes.map((r) => r.name) });
  for (const vh of config.exact.values()) add(vh);
  for (const w of config.wildcards) add(w.host);
  return [...hosts.values()];
}

export function configDump(table: RouteTable, states?: ClusterStates) {
  return {
    version: table.version,
    builtAt: table.builtAt,
    config: table.config,
    services: [...table.snapshot.services.values()],
    routes: {
      outbound: routeConfigJson(table.outbound),
      gateway: Object.fromEntries([...table.gatewayPorts].map(([port, rc]) => [port, routeConfigJson(rc)])),
    },
    // a large mesh's sidecar compiles hosts on first use (model/on-demand.ts): routes.outbound and
    // clusters then list only those, and this says so, with how many hosts there are and why each is compiled
    ...(table.outbound.onDemand ? { onDemand: { hosts: table.outbound.onDemand.hosts, compiled: table.outbound.onDemand.compiled() } } : {}),
    // a sidecar: the Sidecar resource in effect, its egress hosts, how much of the mesh they let in
    // and what an unknown host gets (model/sidecar-scope.ts, unknown-host.ts)
    ...(table.outbound.scope ? { sidecarScope: table.outbound.scope } : {}),
    clusters: [...table.clusters.values()].map((c) => clusterJson(c, states)),
  };
}

export function createAdminApp(options: AdminOptions): Hono {
  const app = new Hono();
  app.get("/", (c) => c.html(INDEX));
  app.get("/ready", (c) => (options.ready() ? c.text("LIVE\n") : c.text("PRE_INITIALIZING\n", 503)));
  app.get("/healthz/ready", (c) => (options.ready() ? c.text("") : c.text("", 503)));
  app.get("/config_dump", (c) => c.json({ proxy: options.describe(), ...configDump(options.table.current, options.clusters) }));
  app.get("/clusters", (c) => c.json([...options.table.current.clusters.values()].map((cl) => clusterJson(cl, options.clusters))));
  app.get("/stats/prometheus", () => options.prometheus?.() ?? new Response("no metrics\n", { status: 404 }));
  app.get("/app-health/*", async (c) => (options.appHealth ? options.appHealth(c.req.path, c.req.raw) : c.text("no app probes (--app-probes)\n", 404)));
  mountDashboard(app, { table: options.table, clusters: options.clusters, prometheus: options.prometheus, describe: options.describe, peers: options.dashboardPeers });
  // leak hunting only (docs/performance.md "Soak"): a full GC, then RSS, heap and live objects by type
  if (platform.env("DIETMESH_DEBUG_GC") === "1") app.post("/debug/gc", async (c) => c.json(await platform.collectGarbage()));
  app.post("/quitquitquit", (c) => {
    setTimeout(options.quit, 10);
    return c.text("OK\n");
  });
  return app;
}
