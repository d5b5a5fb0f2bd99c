// Scrapes the app's own Prometheus endpoint for the status listener's merged /stats/prometheus
// (Istio: prometheus.io/port and path of the pod, ISTIO_PROMETHEUS_ANNOTATIONS). Asked for the
// classic text format; an OpenMetrics "# EOF" is dropped so the sidecar's and the app's texts can
// be joined. A failed or slow scrape yields "" (the sidecar's metrics are served alone) and is
// logged once per failure streak, never per scrape.
import type { UpstreamClient } from "../platform/index.ts";

export const APP_METRICS_TIMEOUT_MS = 5_000;

export function appMetricsScraper(url: string, client: UpstreamClient, log: (m: string) => void): () => Promise<string> {
  let failing = false;
  return async () => {
    try {
      const response = await client.send({
        url,
        method: "GET",
        headers: new Headers({ host: new URL(url).host, accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1" }),
        body: null,
        signal: AbortSignal.timeout(APP_METRICS_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`answered ${response.status}`);
      failing = false;
      return text.replace(/^# EOF\s*$/m, "").replace(/\s*$/, "\n");
    } catch (error) {
      if (!failing) log(`app metrics: scraping ${url} failed (${(error as Error).message}); serving the sidecar's own metrics only`);
      failing = true;
      return "";
    }
  };
}
