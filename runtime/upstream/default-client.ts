// The shared HTTP/1.1 client for calls that belong to no cluster (the inbound side's calls to the
// app, mirrors, probes, JWKS and app-metrics fetches): dietmesh's own client on one pool with
// Istio's default limits (none; idle 1 h; connect 10 s); https:// URLs go through the runtime's fetch.
// The proxy's path (to the app, mirrors) takes its responses as they come (proxyClient); tools and
// probes get Web Responses (upstreamClient), made from them off the request path.
import { platform } from "../platform/index.ts";
import type { HttpClient, UpstreamClient } from "../platform/types.ts";
import { toWebResponse } from "../exchange/web-request.ts";
import { createConnectionPool, createPoolClient, DEFAULT_POOL_LIMITS } from "./http1/index.ts";

export const proxyClient: HttpClient = createPoolClient(createConnectionPool(DEFAULT_POOL_LIMITS), platform.fetchClient);

export const upstreamClient: UpstreamClient = {
  send: (request) => proxyClient.send(request).then(toWebResponse),
};
