// Istio's standard request metrics (istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes) with the labels Istio's stats filter emits, in its
// order (istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc). A label set is
// resolved once per (target × code × flags) and cached; a request then does a few identity-keyed
// lookups and four numeric updates, and builds no strings.
import type { CounterSeries, HistogramSeries, Registry } from "./metrics.ts";
import type { ServiceInfo, WorkloadInfo } from "./workload-info.ts";

export type { ServiceInfo, WorkloadInfo } from "./workload-info.ts";
export { peerFromEndpoint, serviceInfo, UNKNOWN_PEER } from "./workload-info.ts";

/**
 * Envoy's default histogram buckets (source/common/stats/histogram_impl.cc defaultBuckets()).
 * Istio sets no histogram_bucket_settings unless the sidecar.istio.io/statsHistogramBuckets
 * annotation asks (tools/packaging/common/envoy_bootstrap.json), so these apply to the duration
 * AND the byte histograms: istio/istio#20536 shows le="0.5" on istio_response_bytes. The
 * 1,10,100,… byte buckets some guides quote are from the Mixer-era Prometheus adapter.
 */
export const ENVOY_DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

export const ISTIO_LABELS = [
  "reporter",
  "source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
  "source_principal", "source_app", "source_version", "source_cluster",
  "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
  "destination_version", "destination_service", "destination_canonical_service", "destination_canonical_revision",
  "destination_service_name", "destination_service_namespace", "destination_cluster",
  "request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
] as const;

export type Reporter = "source" | "destination";
export type SecurityPolicy = "mutual_tls" | "none" | "unknown";

export interface SeriesInput {
  /** source: this proxy sent the request (outbound); destination: it received it (inbound) */
  reporter: Reporter;
  /** the other end: the upstream workload for source, the caller for destination */
  peer: WorkloadInfo;
  service: ServiceInfo;
  /** 0 when no response was sent (Envoy's convention) */
  code: number;
  /** Envoy short flags joined by commas ("UO", "DI,UT"); "" when none */
  flags: string;
  protocol: "http" | "grpc";
  /** the grpc-status code for gRPC; leave undefined for HTTP */
  grpcStatus?: number;
  /** Istio reports "unknown" on the client side; mutual_tls or none on the server side */
  security: SecurityPolicy;
}

export interface RequestSeries {
  observe(durationMs: number, requestBytes: number, responseBytes: number): void;
}

export interface IstioMetrics {
  /** cached per label set; pass stable peer/service objects (built once per host/cluster) */
  seriesFor(input: SeriesInput): RequestSeries;
}

const UNKNOWN = "unknown";
const or = (v: string | undefined, fallback = UNKNOWN) => (v ? v : fallback);

/** the label values one side contributes, in Istio's order for that side */
function side(w: WorkloadInfo) {
  return {
    workload: or(w.workload),
    canonicalService: or(w.canonicalService || w.app || w.workload),
    canonicalRevision: or(w.canonicalRevision || w.version, "latest"),
    namespace: or(w.namespace),
    principal: or(w.principal),
    app: or(w.app),
    version: or(w.version),
    cluster: or(w.cluster),
  };
}

class Composite implements RequestSeries {
  constructor(
    private readonly requests: CounterSeries,
    private readonly duration: HistogramSeries,
    private readonly requestBytes: HistogramSeries,
    private readonly responseBytes: HistogramSeries,
  ) {}
  observe(durationMs: number, requestBytes: number, responseBytes: number): void {
    this.requests.inc();
    this.duration.observe(durationMs);
    this.requestBytes.observe(requestBytes);
    this.responseBytes.observe(responseBytes);
  }
}

/** past this many (code × flags) entries a target stops caching: the registry cap still holds */
const MAX_CACHED_PER_TARGET = 512;
const GRPC_NONE = 63;

export function createIstioMetrics(registry: Registry, proxy: WorkloadInfo, options: { buckets?: readonly number[] } = {}): IstioMetrics {
  const buckets = options.buckets ?? ENVOY_DEFAULT_BUCKETS;
  const requests = registry.counter("istio_requests_total", "Requests handled, by source, destination, response code and flags.", ISTIO_LABELS);
  const duration = registry.histogram("istio_request_duration_milliseconds", "Request duration in milliseconds.", ISTIO_LABELS, buckets);
  const requestBytes = registry.histogram("istio_request_bytes", "Request size in bytes.", ISTIO_LABELS, buckets);
  const responseBytes = registry.histogram("istio_response_bytes", "Response size in bytes.", ISTIO_LABELS, buckets);
  const self = side(proxy);
  // a request that came in plaintext was not served under this workload's certificate: Istio
  // reads destination_principal from the connection's local certificate, so it is "unknown"
  const selfPlain = { ...self, principal: UNKNOWN };

  /** everything but the last four labels, fixed per target */
  function prefix(input: SeriesInput): string[] {
    const peer = side(input.peer);
    const [src, dst] = input.reporter === "source" ? [self, peer] : [peer, input.security === "none" ? selfPlain : self];
    const s = input.service;
    return [
      input.reporter,
      src.workload, src.canonicalService, src.canonicalRevision, src.namespace, src.principal, src.app, src.version, src.cluster,
      dst.workload, dst.namespace, dst.principal, dst.app, dst.version, or(s.host), dst.canonicalService, dst.canonicalRevision,
      or(s.name), or(s.namespace), dst.cluster,
      input.protocol,
    ];
  }

  function resolve(head: readonly string[], input: SeriesInput): RequestSeries {
    const values = [
      ...head,
      String(input.code),
      input.grpcStatus === undefined ? "" : String(input.grpcStatus),
      input.flags || "-",
      input.security,
    ];
    return new Composite(requests.series(values), duration.series(values), requestBytes.series(values), responseBytes.series(values));
  }

  interface Target {
    head: string[];
    /** key: code * 64 + grpc status (63 = none), then flags */
    byCode: Map<number, Map<string, RequestSeries>>;
    size: number;
  }
  // service → peer → one slot per (reporter, protocol, security): identity lookups, no strings
  const targets = new WeakMap<ServiceInfo, WeakMap<WorkloadInfo, (Target | undefined)[]>>();
  const SECURITY = { mutual_tls: 0, none: 1, unknown: 2 } as const;

  function target(input: SeriesInput): Target {
    let byPeer = targets.get(input.service);
    if (!byPeer) targets.set(input.service, (byPeer = new WeakMap()));
    let slots = byPeer.get(input.peer);
    if (!slots) byPeer.set(input.peer, (slots = []));
    const i = (input.reporter === "source" ? 0 : 6) + (input.protocol === "http" ? 0 : 3) + SECURITY[input.security];
    return (slots[i] ??= { head: prefix(input), byCode: new Map(), size: 0 });
  }

  return {
    seriesFor(input) {
      const t = target(input);
      const g = input.grpcStatus;
      if (g !== undefined && !(g >= 0 && g < GRPC_NONE && Number.isInteger(g))) return resolve(t.head, input);
      const key = input.code * 64 + (g ?? GRPC_NONE);
      let byFlags = t.byCode.get(key);
      let s = byFlags?.get(input.flags);
      if (s) return s;
      s = resolve(t.head, input);
      if (t.size < MAX_CACHED_PER_TARGET) {
        if (!byFlags) t.byCode.set(key, (byFlags = new Map()));
        byFlags.set(input.flags, s);
        t.size++;
      }
      return s;
    },
  };
}
