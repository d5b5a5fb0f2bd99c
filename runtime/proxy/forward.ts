// The forward leg of the request pipeline: fault injection, then the retry loop — pick a host
// (preferring ones not tried), send through the cluster's pool under the per-try and route
// timeouts, feed the outcome to the outlier detector, and retry when the policy says so.
// Failures become ProxyErrors carrying the flags earned on the way (DI, URX).
import type { ForwardAction } from "../model/route-table.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { UpstreamError, type ConnInfo } from "../platform/index.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import { bufferForReplay, type ReplayableBody } from "../resilience/body-replay.ts";
import type { AttemptOutcome } from "../resilience/retry-policy.ts";
import type { LocalOriginFailure } from "../resilience/outlier-detector.ts";
import { sleep } from "../resilience/clock.ts";
import { ProxyError, type ProxyErrorCode } from "./errors.ts";
import { downstreamResponse, upstreamRequestHeaders } from "./headers.ts";
import { FLAGS_HEADER, flagFor, joinFlags } from "./local-reply.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { ClusterState } from "./cluster-state.ts";
import type { RequestRecord } from "./observe.ts";

export const ATTEMPTS_HEADER = "x-dietmesh-attempts";

function requestTarget(facts: RequestFacts): string {
  return facts.query ? `${facts.path}?${facts.query}` : facts.path;
}

/** How one failed try is classified: for the retry policy, the outlier detector, the local reply. */
function classify(error: unknown): { outcome: AttemptOutcome; local?: LocalOriginFailure; code: ProxyErrorCode } {
  if (!(error instanceof UpstreamError)) throw error;
  switch (error.failure) {
    case "overflow":
      return { outcome: { kind: "overflow" }, code: "overflow" };
    case "connect":
    case "connect-timeout":
      return { outcome: { kind: "connect-failure" }, local: "connect-failure", code: "upstream-connect" };
    case "aborted":
      return { outcome: { kind: "timeout" }, local: "timeout", code: "upstream-timeout" };
    default:
      return { outcome: { kind: "reset" }, local: "reset", code: "upstream-reset" };
  }
}

export async function forward(
  action: ForwardAction,
  request: Request,
  facts: RequestFacts,
  conn: ConnInfo,
  deps: PipelineDeps,
  record: RequestRecord,
): Promise<Response> {
  const { clock } = deps;
  let flags = "";
  const fault = action.fault?.decide();
  if (fault) {
    if (fault.delayMs > 0) {
      flags = "DI";
      await sleep(clock, fault.delayMs);
    }
    if (fault.abortStatus !== undefined) throw new ProxyError("fault-abort", undefined, fault.abortStatus, flags);
    if (fault.grpcStatus !== undefined) {
      throw new ProxyError("fault-abort", undefined, 200, flags, { "content-type": "application/grpc", "grpc-status": fault.grpcStatus });
    }
  }

  const target = action.pick();
  const cluster = target.cluster;
  record.cluster = cluster;
  const state = deps.clusters.get(cluster);
  state.counters.requests++;
  if (state.active >= state.maxRequests) {
    state.counters.overflows++;
    throw new ProxyError("overflow", undefined, undefined, flags);
  }

  const rewritten = action.rewrite?.(facts);
  const path = rewritten ? rewritten.path : requestTarget(facts);
  const authority = rewritten ? rewritten.authority : facts.authority;
  // facts.headers: the request's own, or what a gateway's security checks left of them
  const headers = upstreamRequestHeaders(facts.headers, { remoteAddress: conn.remoteAddress, scheme: facts.scheme }, deps.newRequestId);
  headers.set("host", authority);
  target.requestHeaders?.(headers);
  if (deps.tracer) {
    record.span = deps.tracer.propagate(headers);
    record.requestId = record.span.requestId;
  } else record.requestId = headers.get("x-request-id") ?? undefined;

  let body: ReadableStream<Uint8Array> | null = request.body;
  if (action.mirrors.length) body = deps.mirror(action.mirrors, request.method, path, authority, headers, body);

  const policy = action.retry;
  const replay: ReplayableBody | undefined = policy.maxRetries > 0 && body ? bufferForReplay(body) : undefined;
  const hashKey = cluster.hashKey?.(request, conn.remoteAddress);

  // The route timeout covers every try, the backoffs and the response body.
  // abort machinery only for routes that have a timeout: most requests need none
  const route = action.timeoutMs ? new AbortController() : undefined;
  let routeExpired = false;
  const routeTimer = action.timeoutMs ? clock.setTimeout(() => { routeExpired = true; route!.abort(); }, action.timeoutMs) : undefined;
  let tried: Set<UpstreamHost> | undefined;
  state.active++;
  try {
    for (let attempt = 0; ; attempt++) {
      const host = cluster.balancer.pick({ hashKey, exclude: tried });
      if (!host) throw new ProxyError("no-healthy-upstream", undefined, undefined, joinFlags(flags, attempt ? "URX" : ""));
      record.host = host;
      const tryAbort = route || policy.perTryTimeoutMs ? new AbortController() : undefined;
      const onRouteAbort = () => tryAbort!.abort();
      route?.signal.addEventListener("abort", onRouteAbort);
      const perTry = policy.perTryTimeoutMs ? clock.setTimeout(() => tryAbort!.abort(), policy.perTryTimeoutMs) : undefined;
      let outcome: AttemptOutcome;
      let failure: { code: ProxyErrorCode; message: string } | undefined;
      let response: Response | undefined;
      host.active++;
      try {
        response = await state.pool.send(host.address, {
          url: `http://${host.address}${path}`,
          method: request.method,
          headers,
          body: replay ? replay.stream() : body,
          signal: tryAbort?.signal,
        });
        state.outlier.record(host, { status: response.status });
        outcome = { kind: "response", status: response.status, grpcStatus: response.headers.get("grpc-status") ?? undefined };
      } catch (error) {
        const c = classify(error);
        if (c.local) state.outlier.record(host, { localOrigin: c.local });
        if (c.code === "overflow") state.counters.overflows++;
        outcome = c.outcome;
        failure = { code: c.code, message: (error as Error).message };
      } finally {
        host.active--;
        if (perTry) clock.clearTimeout(perTry);
      }

      // this try is over unless its response is what we return: the route timeout then keeps
      // covering its body through tryAbort
      const release = () => route?.signal.removeEventListener("abort", onRouteAbort);
      const retriable = !routeExpired && policy.shouldRetry(outcome, request.method) && (!replay || replay.replayable());
      if (retriable && attempt < policy.maxRetries) {
        if (state.activeRetries >= state.maxRetries) {
          state.counters.retryOverflows++;
        } else {
          release();
          await response?.body?.cancel();
          state.counters.retries++;
          state.activeRetries++;
          try {
            await sleep(clock, policy.backoffMs(attempt, deps.random));
          } finally {
            state.activeRetries--;
          }
          if (!routeExpired) {
            (tried ??= new Set()).add(host);
            continue;
          }
          failure = { code: "upstream-timeout", message: "route timeout during backoff" };
          response = undefined;
        }
      }
      // Envoy's URX: the last try failed in a way the policy would retry, but tries ran out.
      const exhausted = retriable && attempt > 0 ? "URX" : "";
      if (failure || !response) {
        release();
        const code = routeExpired ? "upstream-timeout" : failure!.code;
        throw new ProxyError(code, failure?.message, undefined, joinFlags(flags, exhausted), { [ATTEMPTS_HEADER]: String(attempt + 1) });
      }
      const downstream = downstreamResponse(response);
      const out = downstream.headers;
      target.responseHeaders?.(out);
      out.set(ATTEMPTS_HEADER, String(attempt + 1));
      const earned = joinFlags(flags, exhausted);
      if (earned) out.set(FLAGS_HEADER, earned);
      return downstream;
    }
  } catch (error) {
    // a failed exchange is over: the route timer has nothing left to cover. (On success it stays
    // armed, so it also bounds the response body; firing after the body ended does nothing.)
    if (routeTimer) clock.clearTimeout(routeTimer);
    if (error instanceof ProxyError) {
      const flag = flagFor(error.code);
      state.counters.flags[flag] = (state.counters.flags[flag] ?? 0) + 1;
    }
    throw error;
  } finally {
    state.active--;
  }
}

export type { ClusterState };
