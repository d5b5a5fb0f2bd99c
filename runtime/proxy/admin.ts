// The admin listener (Envoy's port 15000): readiness, the active config and route table, the
// clusters with their endpoints, and a way to stop the process.
import { Hono } from "hono";
import type { Cluster, RouteConfig, RouteTable, TableRef } from "../model/route-table.ts";

export interface AdminOptions {
  table: TableRef;
  /** false until the first config is loaded and every listener is up */
  ready: () => boolean;
  /** what this process is, for /config_dump */
  describe: () => Record<string, unknown>;
  quit: () => void;
}

function clusterJson(c: Cluster) {
  return {
    name: c.name,
    service: c.service.hostname,
    port: c.port.number,
    subset: c.subset ?? null,
    loadBalancer: c.policy.loadBalancer ?? { simple: "LEAST_REQUEST" },
    endpoints: c.hosts.map((h) => ({
      address: h.address,
      labels: h.endpoint.labels,
      weight: h.endpoint.weight ?? 1,
      healthy: h.healthy,
      activeRequests: h.active,
    })),
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

export function configDump(table: RouteTable) {
  return {
    version: table.version,
    builtAt: table.builtAt,
    config: table.config,
    services: [...table.snapshot.services.values()],
    routes: {
      outbound: routeConfigJson(table.outbound),
      gateway: Object.fromEntries([...table.gatewayPorts].map(([port, rc]) => [port, routeConfigJson(rc)])),
    },
    clusters: [...table.clusters.values()].map(clusterJson),
  };
}

export function createAdminApp(options: AdminOptions): Hono {
  const app = new Hono();
  app.get("/ready", (c) => (options.ready() ? c.text("LIVE\n") : c.text("PRE_INITIALIZING\n", 503)));
  app.get("/healthz/ready", (c) => (options.ready() ? c.text("") : c.text("", 503)));
  app.get("/config_dump", (c) => c.json({ proxy: options.describe(), ...configDump(options.table.current) }));
  app.get("/clusters", (c) => c.json([...options.table.current.clusters.values()].map(clusterJson)));
  app.post("/quitquitquit", (c) => {
    setTimeout(options.quit, 10);
    return c.text("OK\n");
  });
  return app;
}
