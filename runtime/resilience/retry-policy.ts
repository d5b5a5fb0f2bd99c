// When a route retries a failed attempt, how often, and how long it waits first: Istio's HTTPRetry
// compiled once into Envoy's retry semantics (router_filter.rst "x-envoy-retry-on",
// source/common/router/retry_state_impl.cc). The retry loop itself lives with the proxy.
import type { HTTPRetry } from "../config/types.ts";
import { GRPC_STATUS_CODES } from "./grpc-status.ts";

/** How one attempt ended, as the retry loop saw it. */
export type AttemptOutcome =
  | { kind: "response"; status: number; grpcStatus?: string; headers?: Headers }
  /** no connection was made, so the upstream never saw the request */
  | { kind: "connect-failure" }
  /** the upstream said it did not process the request (HTTP/2 REFUSED_STREAM); the HTTP/1.1 client never reports it */
  | { kind: "refused" }
  /** the connection broke after the request was (perhaps partly) sent */
  | { kind: "reset" }
  /** the per-try timeout fired (the route timeout ends the whole request instead) */
  | { kind: "timeout" }
  /** a connection-pool limit refused the attempt (flag UO) */
  | { kind: "overflow" };

export interface RetryPolicy {
  /** retries after the first try: total tries = 1 + maxRetries */
  readonly maxRetries: number;
  /** per attempt; undefined when neither perTryTimeout nor a route timeout is set */
  readonly perTryTimeoutMs?: number;
  shouldRetry(outcome: AttemptOutcome, method: string): boolean;
  /** wait before retry number retryIndex (0 for the first retry); random is in [0, 1) */
  backoffMs(retryIndex: number, random: () => number): number;
}

// retries.retryRemoteLocalities needs nothing here: dietmesh's endpoints have no localities (the
// schema refuses locality), so a retry may go to any host whichever way it is set, as in Envoy
// for a cluster of one locality.

/** Istio's default (pilot .../route/retry/retry.go), with 503 no longer in the status list (1.24) */
export const DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
export const DEFAULT_RETRY_ATTEMPTS = 2;
/** Envoy's default base interval (Istio's retries.backoff sets it); the cap is ten times the base */
export const BACKOFF_BASE_MS = 25;
export const BACKOFF_MAX_MS = 250;

const ON_5XX = 1 << 0;
const ON_GATEWAY = 1 << 1;
const ON_RESET = 1 << 2;
const ON_CONNECT = 1 << 3;
const ON_REFUSED = 1 << 4;
const ON_409 = 1 << 5;
const ON_CODES = 1 << 6;
const ON_RESET_BEFORE_REQUEST = 1 << 7;
/** the upstream's answer carries x-envoy-ratelimited (Envoy's envoy-ratelimited) */
const ON_RATELIMITED = 1 << 8;
// Honoured by never matching, as Envoy does here: dietmesh has no HTTP/3 (nor has Istio's mesh), and
// retriable-headers retries on Envoy's retriable_headers list, which Istio's HTTPRetry cannot set —
// with the list empty, Envoy never retries on it either.
const ON_NOTHING = 0;

const FLAGS: Readonly<Record<string, number>> = {
  "5xx": ON_5XX,
  "gateway-error": ON_GATEWAY,
  reset: ON_RESET,
  "connect-failure": ON_CONNECT,
  "refused-stream": ON_REFUSED,
  "retriable-4xx": ON_409,
  "retriable-status-codes": ON_CODES,
  "reset-before-request": ON_RESET_BEFORE_REQUEST,
  "http3-post-connect-failure": ON_NOTHING,
  "envoy-ratelimited": ON_RATELIMITED,
  "retriable-headers": ON_NOTHING,
};
/** retryOn's gRPC conditions, matched against the response's grpc-status value */
const GRPC: Readonly<Record<string, number>> = {
  cancelled: GRPC_STATUS_CODES.CANCELLED,
  "deadline-exceeded": GRPC_STATUS_CODES.DEADLINE_EXCEEDED,
  internal: GRPC_STATUS_CODES.INTERNAL,
  "resource-exhausted": GRPC_STATUS_CODES.RESOURCE_EXHAUSTED,
  unavailable: GRPC_STATUS_CODES.UNAVAILABLE,
};
/** RFC 9110 §9.2.2: repeating these has the effect of sending them once */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** case-sensitive, as methods are (RFC 9110 §9.1); Request already upper-cases the common ones */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * `retries` absent → Istio's default policy; attempts 0 (or unset in a given `retries`) → no
 * retries, as Istio's ConvertPolicy returns no policy. An empty retryOn keeps the default list.
 * Bare status codes ("503") join the retriable list and turn on retriable-status-codes, as Istio's
 * parseRetryOn does. Throws on a token the schema should have rejected.
 */
export function compileRetryPolicy(retries: HTTPRetry | undefined, routeTimeoutMs?: number): RetryPolicy {
  // Envoy: with no per_try_timeout, an attempt may use the whole route timeout.
  const routeTimeout = routeTimeoutMs !== undefined && routeTimeoutMs > 0 ? routeTimeoutMs : undefined;
  if (retries !== undefined && !((retries.attempts ?? 0) > 0)) return never(routeTimeout);
  const perTry = retries?.perTryTimeout !== undefined && retries.perTryTimeout > 0 ? retries.perTryTimeout : routeTimeout;
  const { flags, codes, grpc } = parseRetryOn(retries?.retryOn || DEFAULT_RETRY_ON);
  // Doing better than Istio on its users' top complaint: the default policy, which nobody chose,
  // never repeats a non-idempotent request the upstream may have acted on (a gRPC UNAVAILABLE to
  // a POST is such a case). Write a `retries` block to get Envoy's method-blind behaviour.
  const safeOnlyForUnsafeMethods = retries === undefined;
  const matches = (o: AttemptOutcome): boolean => {
    switch (o.kind) {
      case "response":
        return (
          ((flags & ON_5XX) !== 0 && o.status >= 500 && o.status <= 599) ||
          ((flags & ON_GATEWAY) !== 0 && o.status >= 502 && o.status <= 504) ||
          ((flags & ON_409) !== 0 && o.status === 409) ||
          ((flags & ON_CODES) !== 0 && codes.has(o.status)) ||
          ((flags & ON_RATELIMITED) !== 0 && o.headers?.has("x-envoy-ratelimited") === true) ||
          (o.grpcStatus !== undefined && grpc.has(o.grpcStatus.trim()))
        );
      // Envoy's wouldRetryFromReset: a failed connect is a reset that happened before the request
      // was sent, and 5xx / gateway-error count every reset as the 503 it turns into.
      case "connect-failure":
        return (flags & (ON_CONNECT | ON_RESET_BEFORE_REQUEST | ON_RESET | ON_5XX | ON_GATEWAY)) !== 0;
      case "refused":
        return (flags & (ON_REFUSED | ON_RESET | ON_5XX | ON_GATEWAY)) !== 0;
      // A per-try timeout resets the stream locally and goes down the same path, so 5xx,
      // gateway-error and reset retry it (router_filter.rst: "does not respond at all").
      case "reset":
      case "timeout":
        return (flags & (ON_RESET | ON_5XX | ON_GATEWAY)) !== 0;
      // Envoy never retries an overflow: more load on a full pool makes it worse.
      case "overflow":
        return false;
    }
  };
  return {
    maxRetries: retries?.attempts ?? DEFAULT_RETRY_ATTEMPTS,
    perTryTimeoutMs: perTry,
    shouldRetry(outcome, method) {
      if (!matches(outcome)) return false;
      if (!safeOnlyForUnsafeMethods || isIdempotent(method)) return true;
      return outcome.kind === "connect-failure" || outcome.kind === "refused";
    },
    backoffMs: retries?.backoff !== undefined && retries.backoff > 0 ? jitteredBackoff(retries.backoff) : backoffMs,
  };
}

function never(perTryTimeoutMs: number | undefined): RetryPolicy {
  return { maxRetries: 0, perTryTimeoutMs, shouldRetry: () => false, backoffMs };
}

const backoffMs = jitteredBackoff(BACKOFF_BASE_MS);

/**
 * Envoy's fully jittered exponential backoff, as router_filter.rst words it: retry N (from 1)
 * waits a random time in [0, (2^N − 1)·base), the bound capped at 10·base (Envoy's default
 * max_interval, which Istio leaves unset). With the default base: under 25, 75, 175, then 250 ms.
 * (Envoy's code doubles the bound instead, [0, 2^(N−1)·base); the documented form is the one
 * users read.) Whole milliseconds, like Envoy's timers; a base under 1 ms waits nothing.
 */
function jitteredBackoff(baseMs: number): RetryPolicy["backoffMs"] {
  const cap = 10 * baseMs;
  return (retryIndex, random) => {
    const n = Math.min(Math.max(0, Math.floor(retryIndex)), 8) + 1; // 2^9 − 1 > 10: past the cap
    const bound = Math.floor(Math.min((2 ** n - 1) * baseMs, cap));
    return bound < 1 ? 0 : Math.min(Math.floor(random() * bound), bound - 1);
  };
}

function parseRetryOn(retryOn: string): { flags: number; codes: Set<number>; grpc: Set<string> } {
  let flags = 0;
  const codes = new Set<number>();
  const grpc = new Set<string>();
  for (const raw of retryOn.split(",")) {
    const token = raw.trim();
    if (token === "") continue;
    if (/^\d{3}$/.test(token) && Number(token) >= 100 && Number(token) <= 599) {
      codes.add(Number(token));
      flags |= ON_CODES;
    } else if (Object.hasOwn(FLAGS, token)) flags |= FLAGS[token];
    else if (Object.hasOwn(GRPC, token)) grpc.add(String(GRPC[token]));
    else throw new RangeError(`retryOn ${JSON.stringify(token)} is not a retry condition`);
  }
  return { flags, codes, grpc };
}
