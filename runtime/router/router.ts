// The router, the last step of the outbound and gateway chains: answers redirect and
// directResponse routes, and forwards the rest — picks the route's target cluster, asks the
// circuit breaker for a request slot, rewrites and edits headers, propagates the trace, starts
// mirrors, then runs tries (attempt.ts) under the route timeout until the retry state
// (retry-state.ts) says to answer. What happened is written to the request record.
import type { ForwardAction } from "../model/route-table.ts";
import type { Exchange, Terminal } from "../filters/chain.ts";
import { bufferForReplay } from "../resilience/body-replay.ts";
import { upstreamRequestHeaders, downstreamResponse } from "../exchange/headers.ts";
import { ProxyError } from "../exchange/errors.ts";
import { deleteChecked, getChecked, setChecked } from "../exchange/header-list.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { pickHost, UpstreamTry } from "./attempt.ts";
import { EXPIRED, RETRY, RetryState } from "./retry-state.ts";
import type { HttpResponse } from "../exchange/types.ts";
import { meshPeer } from "../upstream/upstream-tls.ts";
import { PEER_METADATA_HEADER, peerFromMetadata } from "../telemetry/peer-metadata.ts";
import { isGrpc } from "../exchange/http2/fields.ts";
import { requestTimeout } from "./grpc-timeout.ts";
import type { ClusterCounters } from "../upstream/cluster-state.ts";
import type { Clock } from "../lib/clock.ts";

export const ATTEMPTS_HEADER = "x-dietmesh-attempts";

export function createRouter(deps: PipelineDeps): Terminal {
  return function router(exchange) {
    const action = exchange.route!.action;
    if (action.kind === "respond") {
      const response = action.respond(exchange.facts);
      action.responseHeaders?.(response.headers);
      exchange.record.details = "direct_response";
      return response;
    }
    return forward(action, exchange, deps);
  };
}

async function forward(action: ForwardAction, exchange: Exchange, deps: PipelineDeps): Promise<HttpResponse> {
  const { facts, conn, record, request } = exchange;
  const { clock } = deps;
  const target = action.pick();
  const cluster = target.cluster;
  record.cluster = cluster;
  const state = deps.clusters.get(cluster);
  state.counters.requests++;
  if (!state.breaker.tryRequest()) {
    state.counters.overflows++;
    return localReply(new ProxyError("overflow"), record);
  }

  const rewritten = action.rewrite?.(facts);
  const path = rewritten ? rewritten.path : facts.query ? `${facts.path}?${facts.query}` : facts.path;
  const authority = rewritten ? rewritten.authority : facts.authority;
  // facts.headers: the request's own, or what a gateway's security filters left of them
  const headers = upstreamRequestHeaders(facts.headers, { remoteAddress: conn.remoteAddress, scheme: facts.scheme }, deps.newRequestId, request.upgrade);
  // the request's own Host, unless rewritten or the request came without one (HTTP/2's :authority):
  // a value the parser checked is not checked again
  if (getChecked(headers, "host") !== authority) headers.set("host", authority);
  target.requestHeaders?.(headers);
  if (deps.tracer) {
    record.span = deps.tracer.propagate(headers);
    record.requestId = record.span.requestId;
  } else record.requestId = getChecked(headers, "x-request-id") ?? undefined;

  let body = request.body;
  // an upgrade is not mirrored: a mirror answering 101 would hold a tunnel nobody reads (as Envoy)
  if (action.mirrors.length && !request.upgrade) body = deps.mirror(action.mirrors, request.method, path, authority, headers, body);
  const policy = action.retry;
  const replay = policy.maxRetries > 0 && body ? bufferForReplay(body) : undefined;
  const hashKey = cluster.hashKey?.(request, conn.remoteAddress);
  const retries = new RetryState(policy, request.method, state.breaker, state.counters, clock, deps.random, replay);

  // The route timeout covers every try, the backoffs and the response body; a gRPC caller's
  // deadline (grpc-timeout) takes its place when shorter, as Istio configures Envoy.
  const timeout = requestTimeout(action.timeoutMs, isGrpc(facts.headers), facts.headers);
  const route = timeout.ms ? new AbortController() : undefined;
  let expired = false;
  const routeTimer = timeout.ms ? clock.setTimeout(() => { expired = true; route!.abort(); }, timeout.ms) : undefined;
  try {
    for (;;) {
      const host = pickHost(cluster, hashKey, retries.exclude);
      if (!host) {
        if (retries.tries > 0) record.addFlag("URX");
        return fail(exchange, new ProxyError("no-healthy-upstream"), state.counters, clock, routeTimer);
      }
      record.host = host;
      retries.tries++;
      // who is calling, for the destination's metrics — to mesh workloads only, never passed on from the client
      if (deps.peerMetadata && meshPeer(cluster, host)) setChecked(headers, PEER_METADATA_HEADER, deps.peerMetadata); // URI-encoded once at start
      else deleteChecked(headers, PEER_METADATA_HEADER);
      // the pool's promise is awaited here: no async step between the router and the pool
      const result = new UpstreamTry(state, host, policy.perTryTimeoutMs, route?.signal, clock);
      // Envoy's upstream service time runs from the answering try's start to its head; the
      // observer's clock (Date.now, the edge's) so the two reads subtract
      const sentAt = Date.now();
      try {
        result.responded(await result.send({ method: request.method, path, headers, body: replay ? replay.stream() : body, trailers: request.trailers }));
      } catch (error) {
        result.failed(error);
      }
      let next = retries.decide(result.outcome, expired);
      if (next === RETRY) {
        // this try's response is not the answer
        result.release();
        await result.response?.body?.cancel();
        next = await retries.backoff(host, () => expired);
        if (next === RETRY) continue;
      }
      record.attempts = retries.tries;
      if (retries.exhausted) record.addFlag("URX");
      if (next === EXPIRED || !result.response) {
        const attempts = { [ATTEMPTS_HEADER]: String(retries.tries) };
        result.release();
        const code = expired ? "upstream-timeout" : result.failure!.code;
        const message = next === EXPIRED ? "route timeout during backoff" : result.message;
        if (code === "upstream-connect") record.transportFailureReason = message;
        // the caller's own deadline passed: DEADLINE_EXCEEDED in the gRPC reply
        const extra = expired && timeout.deadline ? { ...attempts, "grpc-status": "4" } : attempts;
        return fail(exchange, new ProxyError(code, message, undefined, "", extra), state.counters, clock, routeTimer);
      }
      // the route timer stays armed: it also bounds the response body (firing after its end does
      // nothing). A 101 has no body: from here the tunnel's idle timeout governs (exchange/splice.ts)
      if (result.response.upgrade) {
        result.release();
        if (routeTimer) clock.clearTimeout(routeTimer);
      }
      const downstream = downstreamResponse(result.response);
      const out = downstream.headers;
      // the answering workload, from its proxy's metadata over mTLS (an identity checked at the
      // handshake); the header never reaches the app, from a mesh peer or from anyone else
      const peerHeader = getChecked(out, PEER_METADATA_HEADER);
      if (peerHeader !== null) {
        deleteChecked(out, PEER_METADATA_HEADER);
        const identity = host.endpoint.identity;
        if (identity && meshPeer(cluster, host)) record.upstreamPeer = peerFromMetadata(identity, peerHeader);
      }
      target.responseHeaders?.(out);
      setChecked(out, ATTEMPTS_HEADER, String(retries.tries));
      record.details = "via_upstream";
      record.upstreamStartMs = sentAt;
      return downstream;
    }
  } finally {
    state.breaker.releaseRequest();
  }
}

/** a local reply from the router: the route timer stopped, the flag counted for the cluster (module level: no closure per request) */
function fail(exchange: Exchange, error: ProxyError, counters: ClusterCounters, clock: Clock, timer?: unknown): HttpResponse {
  if (timer) clock.clearTimeout(timer as never);
  const reply = localReply(error, exchange.record);
  const flag = exchange.record.flags?.[exchange.record.flags.length - 1];
  if (flag) counters.flags[flag] = (counters.flags[flag] ?? 0) + 1;
  return reply;
}
