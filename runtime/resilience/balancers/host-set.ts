// One upstream host as the balancers and the proxy see it: an endpoint bound to the port the
// request goes to, plus the two mutable fields the data path and the outlier detector share.
import type { Endpoint } from "../../model/types.ts";

export interface UpstreamHost {
  readonly endpoint: Endpoint;
  /** "ip:port", "[v6]:port" or "name:port": what the upstream client connects to */
  readonly address: string;
  readonly port: number;
  /** in-flight requests; the proxy increments before the call and decrements when it ends */
  active: number;
  /** false while the outlier detector has the host ejected; balancers skip it */
  healthy: boolean;
  /** why the last connection to it failed (refused, TLS verification), for /clusters; undefined: none yet */
  lastConnectFailure: string | undefined;
}

/** formats the address once, so the request path never builds strings */
export function createHost(endpoint: Endpoint, port: number): UpstreamHost {
  const a = endpoint.address;
  // A bare IPv6 literal has colons; brackets keep "ip:port" unambiguous (RFC 3986 authority).
  const host = a.includes(":") && !a.startsWith("[") ? `[${a}]` : a;
  return { endpoint, address: `${host}:${port}`, port, active: 0, healthy: true, lastConnectFailure: undefined };
}

/** the endpoint's load-balancing weight; unset (or 0) counts as 1, as in Envoy */
export function weightOf(h: UpstreamHost): number {
  const w = h.endpoint.weight;
  return w !== undefined && w > 0 ? w : 1;
}
