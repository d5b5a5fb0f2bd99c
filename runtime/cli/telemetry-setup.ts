// Builds a proxy process's telemetry: the Prometheus registry with Istio's request metrics and
// dietmesh's own, the trace propagator, and the access log. --access-log is Istio's mesh-wide
// default access log (meshConfig.accessLogFile: the "envoy" provider on for every workload); the
// Telemetry resources that apply to this workload override it either way — one naming "envoy"
// turns it on without the flag (text), `disabled: true` turns it off despite it. Re-read on every
// config reload; the request path only reads the result.
import { createRegistry, PROMETHEUS_CONTENT_TYPE, type Registry } from "../telemetry/metrics.ts";
import { createIstioMetrics, type IstioMetrics } from "../telemetry/istio-metrics.ts";
import type { WorkloadInfo } from "../telemetry/workload-info.ts";
import { VERSION } from "./version.ts";
import { collectSpanExport, createDietmeshMetrics, type ClusterStatsView, type DietmeshMetrics } from "../telemetry/dietmesh-metrics.ts";
import { createTracer, type Tracer } from "../telemetry/trace-context.ts";
import { createAccessLogWriter, type AccessLogWriter } from "../telemetry/access-log-writer.ts";
import { formatterFor } from "../telemetry/access-log.ts";
import { ACCESS_LOG_PROVIDER, parseTelemetryAccessLogging } from "../telemetry/telemetry-resource.ts";
import { createOtlpExporter, httpSender, parseOtlpHeaders, type OtlpExporter } from "../telemetry/otlp.ts";
import { platform } from "../platform/index.ts";
import { sleep, systemClock } from "../lib/clock.ts";
import type { RouteTable } from "../model/route-table.ts";
import { UsageError } from "./args.ts";

export const ACCESS_LOG_FORMATS = ["off", "text", "json"] as const;

export interface ProxyTelemetry {
  registry: Registry;
  /** this workload as metrics label it (the peer metadata it sends comes from it) */
  self: WorkloadInfo;
  metrics: IstioMetrics;
  dietmesh: DietmeshMetrics;
  /** the writer in force for this workload, or undefined when access logging is off */
  /** the access log of this workload's calls (outbound, a gateway's requests): Telemetry's CLIENT */
  accessLog: () => AccessLogWriter | undefined;
  /** the access log of calls to this workload (a sidecar's inbound side): Telemetry's SERVER */
  serverAccessLog: () => AccessLogWriter | undefined;
  /** spans reported on each side now (a Telemetry's tracing disableSpanReporting turns one off) */
  reportClientSpans: () => boolean;
  reportServerSpans: () => boolean;
  /** sampled spans, exported as OTLP/HTTP JSON when --otlp-endpoint is set */
  spans?: OtlpExporter;
  /**
   * trace context for the request path: only where spans are exported. Without an exporter the
   * proxy starts no trace and leaves trace headers as they came, as Envoy with no tracer does
   * (Istio's default since 1.22, which no longer points every proxy at zipkin.istio-system).
   */
  tracer?: Tracer;
  /** re-reads Telemetry resources after a config swap */
  onSwap(table: RouteTable): void;
  prometheus(): Response;
}

export function setupTelemetry(options: {
  namespace: string;
  labels: Record<string, string>;
  /** the workload's SPIFFE ID from its certificate; none without an identity */
  principal?: string;
  /** Istio's cluster ID (--cluster-id) */
  clusterId?: string;
  accessLogFormat: string | undefined;
  /** base URL of an OTLP/HTTP collector ({endpoint}/v1/traces) */
  otlpEndpoint?: string;
  /** 0–100: share of new traces sampled (Istio's default is 1) */
  samplingPercent?: string;
  /** the clusters the dietmesh_* metrics read at scrape time */
  clusters: () => Iterable<ClusterStatsView>;
  newRequestId: () => string;
  log: (m: string) => void;
}): ProxyTelemetry {
  const format = (options.accessLogFormat ?? "off").toLowerCase();
  if (!(ACCESS_LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--access-log: expected off, text or json, got "${options.accessLogFormat}"`);
  const registry = createRegistry();
  const { labels, namespace } = options;
  const app = labels.app ?? labels["app.kubernetes.io/name"];
  const version = labels.version ?? labels["app.kubernetes.io/version"];
  // the same labels, in the same order, that a peer's are read by (workload-info.ts peerFromEndpoint)
  const self: WorkloadInfo = Object.freeze({
    workload: app ? `${app}${version ? `-${version}` : ""}` : undefined,
    namespace,
    app,
    version,
    canonicalService: labels["service.istio.io/canonical-name"],
    canonicalRevision: labels["service.istio.io/canonical-revision"],
    cluster: options.clusterId,
    // the identity its certificate holds (its CA's trust domain), never one made up from the flags
    principal: options.principal,
  });
  const metrics = createIstioMetrics(registry, self);
  // Istio's build gauge: dashboards and `istioctl version`-style queries read the proxy's version from it
  registry.gauge("istio_build", "Proxy build information.", ["component", "tag"]).series(["proxy", `dietmesh-${VERSION}`]).set(1);
  const dietmesh = createDietmeshMetrics(registry, options.clusters);
  const sampling = Number(options.samplingPercent ?? "1");
  if (!Number.isFinite(sampling) || sampling < 0 || sampling > 100) throw new UsageError(`--trace-sampling: expected a percentage 0-100, got "${options.samplingPercent}"`);
  const tracer = createTracer({ now: Date.now, newRequestId: options.newRequestId, samplingPercent: sampling });
  // the flag, else OpenTelemetry's own environment variables, as every OTel SDK reads them
  const env = (name: string) => platform.env(name) || undefined;
  const otlpEndpoint = options.otlpEndpoint ?? env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? env("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (otlpEndpoint && !/^https?:\/\//.test(otlpEndpoint)) throw new UsageError(`--otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT): expected an http(s) URL, got "${otlpEndpoint}"`);
  if (options.samplingPercent !== undefined && !otlpEndpoint) {
    throw new UsageError("--trace-sampling goes with --otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT): without a span exporter no traces are started, as Envoy with no tracer");
  }
  const compression = env("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION") ?? env("OTEL_EXPORTER_OTLP_COMPRESSION");
  if (compression && compression !== "gzip" && compression !== "none") throw new UsageError(`OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none, got "${compression}"`);
  const spans = otlpEndpoint
    ? createOtlpExporter({
        send: httpSender(otlpEndpoint, {
          headers: parseOtlpHeaders(env("OTEL_EXPORTER_OTLP_TRACES_HEADERS") ?? env("OTEL_EXPORTER_OTLP_HEADERS")),
          gzip: compression === "gzip",
          sleep: (ms) => sleep(systemClock, ms),
        }),
        clock: systemClock,
        resource: { "service.name": env("OTEL_SERVICE_NAME") ?? (app ? `${app}.${namespace}` : `dietmesh.${namespace}`) },
        flushMs: 1000,
        onError: (e) => options.log(`span export: ${e}`),
      })
    : undefined;

  // the export's counts on /stats/prometheus, for every proxy that exports (sidecar, gateway, library)
  if (spans) collectSpanExport(registry, spans);

  const writer = createAccessLogWriter({
    // one console.log per batch: lines arrive newline-terminated
    write: (text) => console.log(text.endsWith("\n") ? text.slice(0, -1) : text),
    format: formatterFor(format === "json" ? "JSON" : "TEXT"),
    clock: systemClock,
    onError: (e) => options.log(`access log: ${e}`),
  });
  let client = format !== "off";
  let server = client;
  let clientSpans = true;
  let serverSpans = true;
  const defaultProviders = client ? [ACCESS_LOG_PROVIDER] : [];
  let reported = "";
  let warnedNoExporter = false;
  return {
    self,
    registry,
    metrics,
    dietmesh,
    spans,
    tracer: spans ? tracer : undefined,
    accessLog: () => (client ? writer : undefined),
    serverAccessLog: () => (server ? writer : undefined),
    reportClientSpans: () => clientSpans,
    reportServerSpans: () => serverSpans,
    onSwap(table) {
      const telemetry = parseTelemetryAccessLogging(table.config.other as never, { defaultProviders });
      const decision = telemetry.forWorkload({ namespace, labels });
      // each side as its match.mode says; "envoy" is the only provider a Telemetry may name (config/schemas.ts)
      client = decision.client.length > 0;
      server = decision.server.length > 0;
      // tracing: new traces start on the client side (outbound, gateway), so its rate is the tracer's
      tracer.setSamplingPercent?.(decision.tracing.client.samplingPercent ?? sampling);
      if (!spans && (decision.tracing.client.traced || decision.tracing.server.traced) && !warnedNoExporter) {
        options.log("Telemetry: tracing applies to this workload, but no span exporter is set (--otlp-endpoint): no traces are started, as Envoy with no tracer");
        warnedNoExporter = true;
      }
      clientSpans = decision.tracing.client.reportSpans;
      serverSpans = decision.tracing.server.reportSpans;
      const issues = telemetry.issues.join("\n  ");
      if (issues && issues !== reported) options.log(`Telemetry:\n  ${issues}`);
      reported = issues;
    },
    prometheus: () => new Response(registry.expose(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }),
  };
}
