// The deadline a gRPC request carries (grpc-timeout) as the route's timeout, the way Istio sets up
// Envoy: Istio writes max_grpc_timeout = the route's timeout (0 when none), and Envoy then takes
// the header's value, capped by that maximum when it is not 0. So with no VirtualService timeout
// the caller's deadline wins; with one, the shorter of the two; a gRPC request without the header
// keeps the route's timeout. A deadline that passes is DEADLINE_EXCEEDED for the caller (the
// router's local reply carries grpc-status 4; Envoy says UNAVAILABLE there, from 504 → 14).

/** milliseconds per grpc-timeout unit (gRPC over HTTP/2: Hours, Minutes, Seconds, milli, micro, nano) */
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * A grpc-timeout value ("100m", "5S") in whole milliseconds, rounded up so a sub-millisecond
 * deadline still expires; undefined when malformed (1–8 ASCII digits and one unit) or 0, which
 * Envoy reads as "no deadline".
 */
export function parseGrpcTimeout(value: string | null): number | undefined {
  if (value === null || value.length < 2 || value.length > 9) return undefined;
  const unit = UNIT_MS[value[value.length - 1]];
  const digits = value.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  const ms = Math.ceil(Number(digits) * unit);
  return ms > 0 ? ms : undefined;
}

export interface RequestTimeout {
  /** undefined: no timeout */
  ms: number | undefined;
  /** the caller's deadline set it: its expiry is DEADLINE_EXCEEDED */
  deadline: boolean;
}

/** the common case, shared: no route timeout and no gRPC deadline */
const NO_TIMEOUT: RequestTimeout = Object.freeze({ ms: undefined, deadline: false });

/** the timeout for one request: the route's, or a gRPC request's deadline capped by it */
export function requestTimeout(routeMs: number | undefined, grpc: boolean, headers: Headers): RequestTimeout {
  if (!grpc) return routeMs === undefined ? NO_TIMEOUT : { ms: routeMs, deadline: false };
  const header = parseGrpcTimeout(headers.get("grpc-timeout"));
  if (header === undefined || (routeMs !== undefined && routeMs < header)) return { ms: routeMs, deadline: false };
  return { ms: header, deadline: true };
}
