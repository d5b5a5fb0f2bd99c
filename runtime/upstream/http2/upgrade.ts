// DestinationRule `h2UpgradePolicy: UPGRADE` for a cluster whose port speaks HTTP/1.1: its requests
// go out on an HTTP/2 pool (h2 by ALPN inside the mesh mTLS to a peer sidecar, many requests on one
// connection; h2c with prior knowledge to a plaintext upstream, as Envoy does once Istio marks the
// cluster HTTP/2), translated by upstream/http2/messages.ts. Requests carrying an Upgrade
// (WebSocket) stay on HTTP/1.1, as Envoy does not carry those over an upgraded cluster. The policy
// comes with the pool limits, so a reload turns it on or off in place; each pool is made on first use.
import type { UpstreamRequest } from "../../platform/types.ts";
import type { HttpResponse } from "../../exchange/types.ts";
import type { ConnectionPool, PoolLimits, PoolStats } from "../pool-types.ts";

export interface UpgradingPoolParts {
  http1(limits: PoolLimits): ConnectionPool;
  http2(limits: PoolLimits): ConnectionPool;
}

export function createUpgradingPool(limits: PoolLimits, parts: UpgradingPoolParts): ConnectionPool {
  return new UpgradingPool(limits, parts);
}

/** a request that must stay HTTP/1.1: an Upgrade (its 101 and byte pipe have no HTTP/2 form here) or CONNECT */
export function staysHttp1(request: UpstreamRequest): boolean {
  return request.headers.has("upgrade") || request.method === "CONNECT";
}

class UpgradingPool implements ConnectionPool {
  private h1?: ConnectionPool;
  private h2?: ConnectionPool;

  constructor(
    private limits: PoolLimits,
    private readonly parts: UpgradingPoolParts,
  ) {}

  send(address: string, request: UpstreamRequest): Promise<HttpResponse> {
    if (this.limits.h2Upgrade && !staysHttp1(request)) return (this.h2 ??= this.parts.http2(this.limits)).send(address, request);
    return (this.h1 ??= this.parts.http1(this.limits)).send(address, request);
  }

  setLimits(limits: PoolLimits): void {
    // the pool no longer chosen keeps its connections until idle: requests in flight finish there
    this.limits = limits;
    this.h1?.setLimits(limits);
    this.h2?.setLimits(limits);
  }

  stats(): PoolStats {
    const sum: PoolStats = { connections: 0, active: 0, idle: 0, pending: 0, opened: 0, overflows: 0 };
    for (const pool of [this.h1, this.h2]) {
      if (!pool) continue;
      const s = pool.stats();
      for (const key of Object.keys(sum) as (keyof PoolStats)[]) sum[key] += s[key];
    }
    return sum;
  }

  close(): void {
    this.h1?.close();
    this.h2?.close();
  }
}
