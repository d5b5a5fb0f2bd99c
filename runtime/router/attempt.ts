// One try upstream (Envoy's UpstreamRequest): pick a host (the balancer, avoiding hosts already
// tried), send through the cluster's pool under the per-try timeout and the route's abort, feed
// the outcome to the outlier detector, and classify it. Nothing here decides about retries.
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { AttemptOutcome } from "../resilience/retry-policy.ts";
import type { Clock } from "../lib/clock.ts";
import type { ClusterState } from "../upstream/cluster-state.ts";
import { classifyFailure, type FailureClass } from "./classify.ts";
import type { HttpResponse } from "../exchange/types.ts";

export interface TryRequest {
  method: string;
  /** origin-form target sent upstream */
  path: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** the request's trailers (gRPC over HTTP/2), for clients that send them */
  trailers?: Promise<Headers | undefined>;
}

export interface TryResult {
  host: UpstreamHost;
  outcome: AttemptOutcome;
  response?: HttpResponse;
  failure?: FailureClass;
  message?: string;
  /** stop listening to the route's abort: call once this try's response is not what is returned */
  release(): void;
}

/** the host to try, or undefined when the cluster has none healthy (UH) */
export function pickHost(cluster: Cluster, hashKey: string | undefined, exclude: Set<UpstreamHost> | undefined): UpstreamHost | undefined {
  return cluster.balancer.pick({ hashKey, exclude });
}

const NOTHING = () => {};

export async function sendTry(
  state: ClusterState,
  host: UpstreamHost,
  request: TryRequest,
  perTryTimeoutMs: number | undefined,
  route: AbortSignal | undefined,
  clock: Clock,
): Promise<TryResult> {
  // abort machinery only when a timeout can fire: most requests need none
  const abort = route || perTryTimeoutMs ? new AbortController() : undefined;
  const onRouteAbort = abort && (() => abort.abort());
  if (route) route.addEventListener("abort", onRouteAbort!);
  const perTry = perTryTimeoutMs ? clock.setTimeout(() => abort!.abort(), perTryTimeoutMs) : undefined;
  const release = route ? () => route.removeEventListener("abort", onRouteAbort!) : NOTHING;
  host.active++;
  try {
    const response = await state.pool.send(host.address, {
      url: `http://${host.address}${request.path}`,
      method: request.method,
      headers: request.headers,
      body: request.body,
      trailers: request.trailers,
      signal: abort?.signal,
    });
    state.outlier.record(host, { status: response.status });
    return { host, response, outcome: { kind: "response", status: response.status, grpcStatus: response.headers.get("grpc-status") ?? undefined }, release };
  } catch (error) {
    const failure = classifyFailure(error);
    if (failure.local) state.outlier.record(host, { localOrigin: failure.local });
    if (failure.code === "overflow") state.counters.overflows++;
    return { host, failure, outcome: failure.outcome, message: (error as Error).message, release };
  } finally {
    host.active--;
    if (perTry) clock.clearTimeout(perTry);
  }
}
