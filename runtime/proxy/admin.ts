// The admin listener (Envoy's port 15000): readiness, the active config and route table, the
// clusters with their endpoints, and a way to stop the process.
import { Hono } from "hono";
import type { Cluster, RouteConfig, RouteTable, TableRef } from "../model/route-table.ts";
import type { ClusterStates } from "./cluster-state.ts";

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
}

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
      ? { ...state.counters, activeRequests: state.active, activeRetries: state.activeRetries, panic: state.outlier.panic(), pool: state.pool.stats() }
      : null,
    endpoints: c.hosts.map((h) => {
      const o = outlier.get(h.address);
      return {
        address: h.address,
        labels: h.endpoint.labels,
        weight: h.endpoint.weight ?? 1,
        healthy: h.healthy,
        activeRequests: h.active,
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
    clusters: [...table.clusters.values()].map((c) => clusterJson(c, states)),
  };
}

export function createAdminApp(options: AdminOptions): Hono {
  const app = new Hono();
  app.get("/ready", (c) => (options.ready() ? c.text("LIVE\n") : c.text("PRE_INITIALIZING\n", 503)));
  app.get("/healthz/ready", (c) => (options.ready() ? c.text("") : c.text("", 503)));
  app.get("/config_dump", (c) => c.json({ proxy: options.describe(), ...configDump(options.table.current, options.clusters) }));
  app.get("/clusters", (c) => c.json([...options.table.current.clusters.values()].map((cl) => clusterJson(cl, options.clusters))));
  app.get("/stats/prometheus", () => options.prometheus?.() ?? new Response("no metrics\n", { status: 404 }));
  app.post("/quitquitquit", (c) => {
    setTimeout(options.quit, 10);
    return c.text("OK\n");
  });
  return app;
}
