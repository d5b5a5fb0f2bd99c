// The request record (Envoy's StreamInfo): what happened to one request, set by whoever acted —
// the response flags earned (DI, FI, NR, UH, UF, UC, UT, UO, URX, DPE …) in the order earned,
// Envoy's response-code details, the route, the cluster and host tried (or, inbound, the app), the
// request id and span.
// The access log, the metrics and the dashboard read it; the flags header is rendered from it once,
// at the edge, and a flags header arriving from upstream is never taken as this hop's.
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { SpanInfo } from "../telemetry/trace-context.ts";
import type { WorkloadInfo } from "../telemetry/workload-info.ts";

/** the local app behind an inbound listener, as Envoy's inbound side names it: made once per listener */
export interface AppUpstream {
  /** the app's address, host:port (%UPSTREAM_HOST%) */
  readonly address: string;
  /** Istio's inbound cluster, "inbound|<port>||" (%UPSTREAM_CLUSTER%) */
  readonly cluster: string;
  /** Istio's inbound route, "default" (%ROUTE_NAME%) */
  readonly routeName: string;
}

export class RequestRecord {
  /** response flags in the order earned; usually none */
  flags: string[] | null = null;
  /** Envoy's %RESPONSE_CODE_DETAILS%: "via_upstream", "direct_response", "fault_filter_abort", … */
  details = "";
  cluster?: Cluster;
  host?: UpstreamHost;
  routeName?: string;
  /** inbound: the app the request was sent to (in place of cluster, host and route) */
  app?: AppUpstream;
  /**
   * When the request whose response head came back was sent upstream (ms, the observer's clock):
   * with the head's time, Envoy's upstream service time. Unset when no upstream answered.
   */
  upstreamStartMs?: number;
  /** Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON%: why the connection to the last host tried failed (UF) */
  transportFailureReason?: string;
  /** the x-request-id sent upstream (made by the proxy when the client sent none) */
  requestId?: string;
  /** this hop's span, when trace propagation is on */
  span?: SpanInfo;
  /** tries made upstream (x-dietmesh-attempts) */
  attempts = 0;
  /** inbound: the caller, from its mTLS certificate and peer metadata */
  peer?: WorkloadInfo;
  /** inbound: the caller is a mesh proxy that sent its metadata, so the answer carries ours */
  peerAsked = false;
  /** outbound: the upstream workload, from the metadata its proxy answered with over mTLS */
  upstreamPeer?: WorkloadInfo;

  constructor(readonly startMs: number) {}

  addFlag(flag: string): void {
    if (!flag) return;
    if (this.flags === null) this.flags = [flag];
    else if (!this.flags.includes(flag)) this.flags.push(flag);
  }

  hasFlag(flag: string): boolean {
    return this.flags !== null && this.flags.includes(flag);
  }

  /** "DI,FI", or "" with no flags */
  get flagText(): string {
    return this.flags === null ? "" : this.flags.join(",");
  }
}
