// Istio's standard TCP metrics (istio_tcp_connections_opened_total, _closed_total,
// istio_tcp_sent_bytes_total, istio_tcp_received_bytes_total) for connections the L4 proxy carries.
// Labels as Istio's stats filter gives TCP: the request metrics' labels without response_code and
// grpc_response_status, request_protocol "tcp". Sent bytes go to the client (the response
// direction), received bytes come from it (the request direction), as Istio defines them.
import type { CounterSeries, Registry } from "./metrics.ts";
import type { Reporter, SecurityPolicy } from "./istio-metrics.ts";
import type { ServiceInfo, WorkloadInfo } from "./workload-info.ts";

export const ISTIO_TCP_LABELS = [
  "reporter",
  "source_workload", "source_canonical_service", "source_canonical_revision", "source_workload_namespace",
  "source_principal", "source_app", "source_version", "source_cluster",
  "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
  "destination_version", "destination_service", "destination_canonical_service", "destination_canonical_revision",
  "destination_service_name", "destination_service_namespace", "destination_cluster",
  "request_protocol", "response_flags", "connection_security_policy",
] as const;

export interface TcpSeriesInput {
  reporter: Reporter;
  /** the upstream workload (reporter source); UNKNOWN_PEER when no upstream was reached */
  peer: WorkloadInfo;
  service: ServiceInfo;
  /** Envoy short flags: "UF" (connect failed), "UO" (maxConnections), "UH" (no healthy host), "NR" (no route); "" when none */
  flags: string;
  security: SecurityPolicy;
}

/** one connection's counters, resolved once when its upstream is known */
export interface TcpConnectionSeries {
  opened(): void;
  closed(): void;
  /** bytes to the client (sent) and from it (received) */
  bytes(sent: number, received: number): void;
}

export interface IstioTcpMetrics {
  seriesFor(input: TcpSeriesInput): TcpConnectionSeries;
}

const UNKNOWN = "unknown";
const or = (v: string | undefined, fallback = UNKNOWN) => (v ? v : fallback);

function side(w: WorkloadInfo): string[] {
  return [
    or(w.workload), or(w.canonicalService || w.app || w.workload), or(w.canonicalRevision || w.version, "latest"), or(w.namespace),
    or(w.principal), or(w.app), or(w.version), or(w.cluster),
  ];
}

class Series implements TcpConnectionSeries {
  constructor(
    private readonly openedTotal: CounterSeries,
    private readonly closedTotal: CounterSeries,
    private readonly sent: CounterSeries,
    private readonly received: CounterSeries,
  ) {}
  opened(): void {
    this.openedTotal.inc();
  }
  closed(): void {
    this.closedTotal.inc();
  }
  bytes(sent: number, received: number): void {
    if (sent) this.sent.inc(sent);
    if (received) this.received.inc(received);
  }
}

export function createIstioTcpMetrics(registry: Registry, proxy: WorkloadInfo): IstioTcpMetrics {
  const opened = registry.counter("istio_tcp_connections_opened_total", "TCP connections opened, by source, destination and flags.", ISTIO_TCP_LABELS);
  const closed = registry.counter("istio_tcp_connections_closed_total", "TCP connections closed, by source, destination and flags.", ISTIO_TCP_LABELS);
  const sent = registry.counter("istio_tcp_sent_bytes_total", "Bytes sent to the client over TCP connections.", ISTIO_TCP_LABELS);
  const received = registry.counter("istio_tcp_received_bytes_total", "Bytes received from the client over TCP connections.", ISTIO_TCP_LABELS);
  const self = side(proxy);
  // a label set per (service, peer, flags, reporter, security): connections are few next to requests,
  // so one string key per connection is cheap enough
  const cache = new Map<string, Series>();
  return {
    seriesFor(input) {
      const peer = side(input.peer);
      const [src, dst] = input.reporter === "source" ? [self, peer] : [peer, self];
      const s = input.service;
      const values = [
        input.reporter,
        ...src,
        dst[0], dst[3], dst[4], dst[5], dst[6], or(s.host), dst[1], dst[2], or(s.name), or(s.namespace), dst[7],
        "tcp", input.flags || "-", input.security,
      ];
      const key = values.join("\u0000");
      let series = cache.get(key);
      if (!series) {
        series = new Series(opened.series(values), closed.series(values), sent.series(values), received.series(values));
        if (cache.size < 4096) cache.set(key, series);
      }
      return series;
    },
  };
}
