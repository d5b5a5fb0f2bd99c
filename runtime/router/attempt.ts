// One try upstream (Envoy's UpstreamRequest): pick a host (the balancer, avoiding hosts already
// tried), send through the cluster's pool under the per-try timeout and the route's abort, feed
// the outcome to the outlier detector, and classify it. Nothing here decides about retries.
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { AttemptOutcome } from "../resilience/retry-policy.ts";
import type { OutlierOutcome } from "../resilience/outlier-detector.ts";
import type { Clock } from "../lib/clock.ts";
import type { ClusterState } from "../upstream/cluster-state.ts";
import { classifyFailure, type FailureClass } from "./classify.ts";
import type { HttpResponse } from "../exchange/types.ts";
import { getChecked } from "../exchange/header-list.ts";

export interface TryRequest {
  method: string;
  /** origin-form target sent upstream */
  path: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** the request's trailers (gRPC over HTTP/2), for clients that send them */
  trailers?: Promise<Headers | undefined>;
}

/** the host to try, or undefined when the cluster has none healthy (UH) */
export function pickHost(cluster: Cluster, hashKey: string | undefined, exclude: Set<UpstreamHost> | undefined): UpstreamHost | undefined {
  return cluster.balancer.pick({ hashKey, exclude });
}

/**
 * One try, awaited by the router itself (no async frame of its own between the router and the
 * pool): `send` starts it, then exactly one of `responded`/`failed` says how it ended. The abort
 * machinery exists only when a timeout can fire: most requests need none.
 */
export class UpstreamTry {
  response: HttpResponse | undefined = undefined;
  failure: FailureClass | undefined = undefined;
  message: string | undefined = undefined;
  outcome!: AttemptOutcome;
  private readonly abort: AbortController | undefined;
  private readonly perTry: unknown;
  private open = true;

  constructor(
    readonly state: ClusterState,
    readonly host: UpstreamHost,
    perTryTimeoutMs: number | undefined,
    private readonly route: AbortSignal | undefined,
    private readonly clock: Clock,
  ) {
    if (route || perTryTimeoutMs) {
      const abort = (this.abort = new AbortController());
      // the controller itself listens (handleEvent below): no closure per try
      if (route) route.addEventListener("abort", this);
      if (perTryTimeoutMs) this.perTry = clock.setTimeout(() => abort.abort(), perTryTimeoutMs);
    }
  }

  /** the route's abort fired */
  handleEvent(): void {
    this.abort!.abort();
  }

  send(request: TryRequest): Promise<HttpResponse> {
    const address = this.host.address;
    this.host.active++;
    return this.state.pool.send(address, {
      url: `http://${address}${request.path}`,
      // the target as it is: the HTTP/1.1 pool does not parse it back out of the URL
      target: request.path.charCodeAt(0) === 47 /* "/" */ ? request.path : undefined,
      method: request.method,
      headers: request.headers,
      body: request.body,
      trailers: request.trailers,
      signal: this.abort?.signal,
    });
  }

  responded(response: HttpResponse): void {
    this.settled();
    this.state.outlier.record(this.host, statusOutcome(response.status));
    this.response = response;
    this.outcome = { kind: "response", status: response.status, grpcStatus: getChecked(response.headers, "grpc-status") ?? undefined, headers: response.headers };
  }

  failed(error: unknown): void {
    this.settled();
    const failure = (this.failure = classifyFailure(error));
    if (failure.local) this.state.outlier.record(this.host, { localOrigin: failure.local });
    if (failure.code === "overflow") this.state.counters.overflows++;
    this.message = (error as Error).message;
    if (failure.code === "upstream-connect") this.host.lastConnectFailure = this.message;
    this.outcome = failure.outcome;
  }

  /** stop listening to the route's abort: call once this try's response is not what is returned */
  release(): void {
    this.route?.removeEventListener("abort", this);
  }

  /** once, even when the outlier detector threw in responded and failed follows */
  private settled(): void {
    if (!this.open) return;
    this.open = false;
    this.host.active--;
    if (this.perTry) this.clock.clearTimeout(this.perTry as never);
  }
}

/** the outlier detector's outcome for a status, one shared object per status (it is only read) */
const STATUS_OUTCOMES: OutlierOutcome[] = [];
function statusOutcome(status: number): OutlierOutcome {
  return (STATUS_OUTCOMES[status] ??= Object.freeze({ status }));
}
