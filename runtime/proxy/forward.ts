// The forward leg of the request pipeline: pick a target and a host, build the upstream request,
// call it through the platform's client, and shape the response. Failures become ProxyErrors;
// the caller turns them into local replies.
import type { ForwardAction, Target } from "../model/route-table.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { UpstreamError, type ConnInfo, type UpstreamRequest } from "../platform/index.ts";
import { ProxyError } from "./errors.ts";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";

function requestTarget(facts: RequestFacts): string {
  return facts.query ? `${facts.path}?${facts.query}` : facts.path;
}

export async function forward(
  action: ForwardAction,
  request: Request,
  facts: RequestFacts,
  conn: ConnInfo,
  deps: PipelineDeps,
): Promise<Response> {
  const target: Target = action.pick();
  const cluster = target.cluster;
  const host = cluster.balancer.pick({ hashKey: cluster.hashKey?.(request, conn.remoteAddress) });
  if (!host) throw new ProxyError("no-healthy-upstream");

  const rewritten = action.rewrite?.(facts);
  const path = rewritten ? rewritten.path : requestTarget(facts);
  const authority = rewritten ? rewritten.authority : facts.authority;

  const headers = upstreamRequestHeaders(request.headers, { remoteAddress: conn.remoteAddress, scheme: facts.scheme }, deps.newRequestId);
  headers.set("host", authority);
  target.requestHeaders?.(headers);

  let body: ReadableStream<Uint8Array> | null = request.body;
  if (action.mirrors.length) body = deps.mirror(action.mirrors, request.method, path, authority, headers, body);

  const upstream: UpstreamRequest = {
    url: `http://${host.address}${path}`,
    method: request.method,
    headers,
    body,
    signal: action.timeoutMs ? AbortSignal.timeout(action.timeoutMs) : undefined,
  };

  host.active++;
  let response: Response;
  try {
    response = await deps.upstream.send(upstream);
  } catch (error) {
    if (error instanceof UpstreamError) {
      if (error.failure === "aborted") throw new ProxyError("upstream-timeout");
      if (error.failure === "connect") throw new ProxyError("upstream-connect", error.message);
      throw new ProxyError("upstream-reset", error.message);
    }
    throw error;
  } finally {
    host.active--;
  }

  const out = downstreamResponseHeaders(response.headers);
  target.responseHeaders?.(out);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: out });
}
