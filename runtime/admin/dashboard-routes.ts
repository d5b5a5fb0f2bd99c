// The live mesh dashboard on the admin listener: GET /dashboard (the page), /dashboard/events (a
// snapshot a second over SSE), /dashboard/snapshot.json (one snapshot) and
// /dashboard/reading.json (this proxy's raw counters, what a gateway started with
// --dashboard-peer reads from its peers to draw the whole mesh).
import type { Hono } from "hono";
import { platform } from "../platform/index.ts";
import type { TableRef } from "../model/route-table.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { poolLimits, type ClusterStates } from "../upstream/cluster-state.ts";
import { readingFromExposition, selfNode, type ClusterView, type Reading } from "../telemetry/dashboard-reading.ts";
import { createDashboardFeed } from "../telemetry/dashboard-feed.ts";
import { dashboardEvents } from "../telemetry/dashboard-sse.ts";
import { DASHBOARD_HTML } from "../telemetry/dashboard-page.ts";
import { upstreamClient } from "../upstream/default-client.ts";

export interface DashboardRouteOptions {
  table: TableRef;
  clusters?: ClusterStates;
  /** the Prometheus exposition, read once per sample */
  prometheus?: () => Response;
  /** kind, namespace and labels name this proxy's node */
  describe: () => Record<string, unknown>;
  /** admin addresses (HOST:PORT) of other proxies whose readings join this dashboard */
  peers?: readonly string[];
  clock?: Clock;
}

/** breaker and outlier state of every cluster in the table, as the reading wants it */
function* clusterViews(table: TableRef, states?: ClusterStates): Iterable<ClusterView> {
  for (const c of table.current.clusters.values()) {
    const state = states?.peek(c.name);
    const ejected = new Set((state?.outlier.snapshot() ?? []).filter((h) => h.ejected).map((h) => h.address));
    const limits = poolLimits(c.policy);
    const pool = state?.pool.stats();
    yield {
      hostname: c.service.hostname,
      namespace: c.service.namespace,
      subset: c.subset,
      overflows: state?.counters.overflows ?? 0,
      active: state?.breaker.activeRequests ?? 0,
      maxRequests: state?.breaker.maxRequests ?? Infinity,
      connections: pool?.connections ?? 0,
      maxConnections: limits.maxConnections,
      pending: pool?.pending ?? 0,
      maxPending: limits.maxPendingRequests,
      hosts: c.hosts.map((h) => ({ address: h.address, labels: h.endpoint.labels, ejected: ejected.has(h.address) })),
    };
  }
}

async function readPeer(address: string): Promise<Reading> {
  const res = await upstreamClient.send({
    url: `http://${address}/dashboard/reading.json`, method: "GET", headers: new Headers({ host: address }), body: null, signal: AbortSignal.timeout(800),
  });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`status ${res.status}`);
  }
  const r = (await res.json()) as Reading;
  if (!Array.isArray(r?.edges) || !Array.isArray(r?.clusters) || !r.self?.id) throw new Error("not a dashboard reading");
  return { ...r, origin: address };
}

export function mountDashboard(app: Hono, options: DashboardRouteOptions): void {
  const clock = options.clock ?? systemClock;
  let self: ReturnType<typeof selfNode> | undefined;
  async function local(): Promise<Reading> {
    if (!self) {
      const d = options.describe();
      self = selfNode(d.kind === "gateway" ? "gateway" : "sidecar", String(d.namespace ?? "default"), (d.labels ?? {}) as Record<string, string>);
    }
    const text = options.prometheus ? await options.prometheus().text() : "";
    return readingFromExposition(text, { self, at: clock.now(), clusters: clusterViews(options.table, options.clusters) });
  }
  const feed = createDashboardFeed({ local, peers: (options.peers ?? []).map((origin) => ({ origin, read: () => readPeer(origin) })), clock });

  app.get("/dashboard", (c) => c.html(DASHBOARD_HTML));
  app.get("/dashboard/events", (c) => dashboardEvents(feed, c.req.raw.signal));
  app.get("/dashboard/snapshot.json", async (c) => c.json(await feed.snapshot()));
  app.get("/dashboard/reading.json", async (c) => c.json(await local()));
}
