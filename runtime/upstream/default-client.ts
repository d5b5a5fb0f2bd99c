// The shared HTTP/1.1 client for calls that belong to no cluster (the inbound side's calls to the
// app, mirrors, probes, JWKS and app-metrics fetches): dietmesh's own client on one pool with
// Istio's default limits (none; idle 1 h; connect 10 s); https:// URLs go through the runtime's fetch.
import { platform } from "../platform/index.ts";
import type { UpstreamClient } from "../platform/types.ts";
import { createConnectionPool, createPoolClient, DEFAULT_POOL_LIMITS } from "./http1/index.ts";

export const upstreamClient: UpstreamClient = createPoolClient(createConnectionPool(DEFAULT_POOL_LIMITS), platform.fetchClient);
