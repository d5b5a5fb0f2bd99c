// dietmesh's own metrics, beside Istio's: what the resilience layer did (breaker overflows,
// retries, ejections), config reloads, certificate expiry, registry sync and requests refused over
// the head limits. Cluster numbers are read from live cluster state at scrape time, so the request
// path pays nothing for them; the rest are pushed by the code that knows (reload loop, cert
// rotation, registry, and the codecs' refusal paths).
import type { Registry } from "./metrics.ts";
import type { AuthzDecision } from "../security/policy/index.ts";
import type { OtlpExporter } from "./otlp.ts";

/** the part of a cluster's live state these metrics read (runtime/upstream/cluster-state.ts fits) */
export interface ClusterStatsView {
  readonly name: string;
  readonly breaker: { readonly activeRequests: number };
  readonly counters: { readonly requests: number; readonly overflows: number; readonly retries: number; readonly retryOverflows: number };
  readonly outlier: { snapshot(): readonly { readonly ejected: boolean; readonly ejectionCount: number }[] };
}

/**
 * Every name, its type and labels — the list docs and dashboards should use:
 *   dietmesh_cluster_requests_total{cluster}           counter  requests sent to the cluster
 *   dietmesh_cluster_overflows_total{cluster}          counter  503 UO: connection pool / maxRequests
 *   dietmesh_cluster_retries_total{cluster}            counter  retries started
 *   dietmesh_cluster_retry_overflows_total{cluster}    counter  retries skipped: http.maxRetries reached
 *   dietmesh_cluster_active_requests{cluster}          gauge    in flight now
 *   dietmesh_cluster_ejections_total{cluster}          counter  outlier ejections of current hosts
 *   dietmesh_cluster_ejected_hosts{cluster}            gauge    hosts ejected now
 *   dietmesh_config_reloads_total{result}              counter  result: accepted | rejected
 *   dietmesh_config_last_reload_timestamp_seconds{result} gauge
 *   dietmesh_certificate_expiry_timestamp_seconds{name} gauge   notAfter as Unix time
 *   dietmesh_authz_decisions_total{result,policy}      counter  result: allowed | denied | audit | dry_run_denied,
 *                                                                policy: the AuthorizationPolicy that decided ("" for none)
 *   dietmesh_registry_synced{registry}                 gauge    1 when the last sync succeeded
 *   dietmesh_registry_last_sync_timestamp_seconds{registry} gauge
 *   dietmesh_request_header_overflows_total{codec}     counter  requests refused over --max-request-headers or
 *                                                                --max-request-headers-kb, codec: http1 (431) | http2
 *                                                                (stream reset, header or trailer block)
 * and, with span export on (collectSpanExport):
 *   dietmesh_otlp_spans_exported_total                 counter  spans the collector accepted
 *   dietmesh_otlp_spans_dropped_total                  counter  spans dropped: the queue was full
 *   dietmesh_otlp_spans_failed_total                   counter  spans in batches given up after retries
 *   dietmesh_otlp_export_failures_total                counter  batches given up after retries
 */
export interface DietmeshMetrics {
  configReload(result: "accepted" | "rejected", atMs: number): void;
  /** name: which certificate; a proxy reports its own workload certificate as "workload" (a gateway's credentials: certificateSource) */
  certificateExpiry(name: string, notAfterMs: number): void;
  /** a certificate no longer in use: its series is removed from the output */
  certificateGone(name: string): void;
  /** certificates in service read at each scrape, as [name, notAfter ms] (a gateway's credentials); a name listed twice shows its earliest */
  certificateSource(list: () => Iterable<readonly [string, number]>): void;
  registrySync(registry: string, synced: boolean, atMs: number): void;
  /** an AuthorizationPolicy decision on a workload that has policies (AUDIT and dry-run show only here) */
  authz(decision: AuthzDecision): void;
  /** a request refused over the head limits (HeadLimits.overflowed) */
  requestHeaderOverflow(codec: "http1" | "http2"): void;
}

export function createDietmeshMetrics(registry: Registry, clusters: () => Iterable<ClusterStatsView>): DietmeshMetrics {
  const perCluster = (name: string, help: string, type: "counter" | "gauge", read: (c: ClusterStatsView) => number) =>
    registry.collect(name, help, type, ["cluster"], (emit) => {
      for (const c of clusters()) emit([c.name], read(c));
    });
  perCluster("dietmesh_cluster_requests_total", "Requests sent to the cluster (every try counts once per request).", "counter", (c) => c.counters.requests);
  perCluster("dietmesh_cluster_overflows_total", "Requests refused with 503 UO: connection pool or http2MaxRequests limit (circuit breaker).", "counter", (c) => c.counters.overflows);
  perCluster("dietmesh_cluster_retries_total", "Retries started.", "counter", (c) => c.counters.retries);
  perCluster("dietmesh_cluster_retry_overflows_total", "Retries skipped because http.maxRetries concurrent retries were running.", "counter", (c) => c.counters.retryOverflows);
  perCluster("dietmesh_cluster_active_requests", "Requests to the cluster in flight.", "gauge", (c) => c.breaker.activeRequests);
  // Summed over the hosts the cluster has now: a host leaving takes its count along, which
  // Prometheus reads as a counter reset; rate() copes with that.
  perCluster("dietmesh_cluster_ejections_total", "Outlier-detection ejections of the cluster's current hosts.", "counter", (c) => {
    let n = 0;
    for (const h of c.outlier.snapshot()) n += h.ejectionCount;
    return n;
  });
  perCluster("dietmesh_cluster_ejected_hosts", "Hosts ejected by outlier detection now.", "gauge", (c) => {
    let n = 0;
    for (const h of c.outlier.snapshot()) if (h.ejected) n++;
    return n;
  });

  // policy names come from the config, so the label set is bounded by it
  const decisions = registry.counter("dietmesh_authz_decisions_total", "AuthorizationPolicy decisions, by result and deciding policy (AUDIT matches and dry-run denials counted apart).", ["result", "policy"]);
  const reloads = registry.counter("dietmesh_config_reloads_total", "Config reloads, by result (rejected: the last good config stayed).", ["result"]);
  const lastReload = registry.gauge("dietmesh_config_last_reload_timestamp_seconds", "Unix time of the last reload, by result.", ["result"]);
  // Timestamps rather than "days left": alert on `… - time() < 7*86400`, and the value never goes stale.
  const expiry = new Map<string, number>();
  const sources: (() => Iterable<readonly [string, number]>)[] = [];
  registry.collect("dietmesh_certificate_expiry_timestamp_seconds", "Certificate notAfter as Unix time.", "gauge", ["name"], (emit) => {
    const all = new Map(expiry);
    for (const source of sources) {
      for (const [name, ms] of source()) all.set(name, Math.min(all.get(name) ?? Infinity, ms / 1000));
    }
    for (const [name, at] of all) emit([name], at);
  });
  const synced = registry.gauge("dietmesh_registry_synced", "1 when the registry's last sync succeeded, else 0.", ["registry"]);
  const lastSync = registry.gauge("dietmesh_registry_last_sync_timestamp_seconds", "Unix time of the registry's last successful sync.", ["registry"]);
  // One counter for both codecs, as Envoy's http2.header_overflow counts HTTP/2's resets (its HTTP/1
  // 431s have no counter of their own, only the catch-all downstream_cx_protocol_error); both series
  // exist from the start at 0, so a rate() or an alert has a series before the first refusal.
  const overflows = registry.counter("dietmesh_request_header_overflows_total", "Requests refused for a header block (or an HTTP/2 trailer block) over --max-request-headers or --max-request-headers-kb, by codec: http1 answered 431, http2 reset.", ["codec"]);
  const overflowsBy = { http1: overflows.series(["http1"]), http2: overflows.series(["http2"]) };

  return {
    configReload(result, atMs) {
      reloads.series([result]).inc();
      lastReload.series([result]).set(atMs / 1000);
    },
    certificateExpiry: (name, notAfterMs) => void expiry.set(name, notAfterMs / 1000),
    certificateGone: (name) => void expiry.delete(name),
    certificateSource: (list) => void sources.push(list),
    registrySync(name, ok, atMs) {
      synced.series([name]).set(ok ? 1 : 0);
      if (ok) lastSync.series([name]).set(atMs / 1000);
    },
    authz(d) {
      decisions.series([d.allowed ? "allowed" : "denied", d.policy ?? ""]).inc();
      if (d.audit) decisions.series(["audit", d.auditPolicy ?? ""]).inc();
      if (d.dryRun && !d.dryRun.allowed) decisions.series(["dry_run_denied", d.dryRun.policy ?? ""]).inc();
    },
    requestHeaderOverflow: (codec) => overflowsBy[codec].inc(),
  };
}

/** the span exporter's counts, read at scrape time (the exporter keeps them; nothing on the request path) */
export function collectSpanExport(registry: Registry, exporter: Pick<OtlpExporter, "stats">): void {
  const counter = (name: string, help: string, read: (s: ReturnType<OtlpExporter["stats"]>) => number) =>
    registry.collect(name, help, "counter", [], (emit) => emit([], read(exporter.stats())));
  counter("dietmesh_otlp_spans_exported_total", "Spans the OTLP collector accepted.", (s) => s.exported);
  counter("dietmesh_otlp_spans_dropped_total", "Sampled spans dropped because the export queue was full.", (s) => s.dropped);
  counter("dietmesh_otlp_spans_failed_total", "Spans in OTLP batches given up after retries (network failures, non-retryable or repeated retryable answers).", (s) => s.failed);
  counter("dietmesh_otlp_export_failures_total", "OTLP batches given up after retries.", (s) => s.failedBatches);
}
