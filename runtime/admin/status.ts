// The status listener (Istio's pilot-agent ports 15020/15021 in one): what the kubelet and
// Prometheus need from outside the pod, and nothing else. /healthz/ready for the sidecar's own
// readiness, /app-health/... for the app's probes, and /stats/prometheus with the app's metrics
// merged after the sidecar's as Istio's metrics merging does, so one scrape target per pod sees
// both. The admin listener (config dump, /quitquitquit) can then stay on loopback.
import { Hono } from "hono";
import type { AppHealth } from "./app-health.ts";

export interface StatusOptions {
  ready: () => boolean;
  /** the sidecar's own metrics (Prometheus text) */
  prometheus: () => Response;
  appHealth?: AppHealth;
  /** the app's metrics in Prometheus text, "" when it has none or its scrape failed */
  appMetrics?: () => Promise<string>;
}

export function createStatusApp(options: StatusOptions): Hono {
  const app = new Hono();
  app.get("/healthz/ready", (c) => (options.ready() ? c.text("") : c.text("", 503)));
  app.get("/app-health/*", async (c) => (options.appHealth ? options.appHealth(c.req.path, c.req.raw) : c.text("no app probes (--app-probes)\n", 404)));
  app.get("/stats/prometheus", async () => {
    const own = options.prometheus();
    if (!options.appMetrics) return own;
    const [mine, theirs] = await Promise.all([own.text(), options.appMetrics()]);
    return new Response(theirs ? `${mine.endsWith("\n") ? mine : `${mine}\n`}${theirs}` : mine, { status: own.status, headers: own.headers });
  });
  return app;
}
