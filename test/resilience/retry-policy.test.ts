// Retry policy: Istio's default, each retryOn condition, attempts, per-try timeout and backoff.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  BACKOFF_MAX_MS,
  compileRetryPolicy,
  DEFAULT_RETRY_ATTEMPTS,
  isIdempotent,
  type AttemptOutcome,
} from "../../runtime/resilience/retry-policy.ts";
import { seededRandom } from "./seeded-random.ts";

const status = (s: number, grpcStatus?: string): AttemptOutcome => ({ kind: "response", status: s, ...(grpcStatus ? { grpcStatus } : {}) });
const CONNECT: AttemptOutcome = { kind: "connect-failure" };
const REFUSED: AttemptOutcome = { kind: "refused" };
const RESET: AttemptOutcome = { kind: "reset" };
const TIMEOUT: AttemptOutcome = { kind: "timeout" };
const OVERFLOW: AttemptOutcome = { kind: "overflow" };

/** which of the listed outcomes a retryOn string retries, for a GET */
function retried(retryOn: string, outcomes: Record<string, AttemptOutcome>): string[] {
  const p = compileRetryPolicy({ attempts: 3, retryOn });
  return Object.entries(outcomes).filter(([, o]) => p.shouldRetry(o, "GET")).map(([k]) => k);
}
const ALL = {
  "500": status(500), "502": status(502), "503": status(503), "504": status(504), "599": status(599),
  "409": status(409), "404": status(404), "200": status(200),
  connect: CONNECT, refused: REFUSED, reset: RESET, timeout: TIMEOUT, overflow: OVERFLOW,
};

test("default policy: 2 retries on connect-failure, refused-stream, gRPC unavailable and cancelled", () => {
  const p = compileRetryPolicy(undefined);
  assert.is(p.maxRetries, DEFAULT_RETRY_ATTEMPTS);
  assert.is(p.maxRetries, 2);
  assert.equal(retried("", ALL), ["connect", "refused"]); // empty retryOn keeps Istio's default list
  assert.equal(Object.entries(ALL).filter(([, o]) => p.shouldRetry(o, "GET")).map(([k]) => k), ["connect", "refused"]);
  assert.ok(p.shouldRetry(status(200, "14"), "GET"), "gRPC UNAVAILABLE");
  assert.ok(p.shouldRetry(status(200, "1"), "GET"), "gRPC CANCELLED");
  assert.not.ok(p.shouldRetry(status(200, "13"), "GET"), "gRPC INTERNAL is not in the default");
});

test("default policy: no 503 retry, and a POST is retried only when nothing reached the upstream", () => {
  const p = compileRetryPolicy(undefined);
  assert.not.ok(p.shouldRetry(status(503), "GET"));
  assert.not.ok(p.shouldRetry(status(503), "POST"));
  assert.ok(p.shouldRetry(CONNECT, "POST"));
  assert.ok(p.shouldRetry(REFUSED, "PATCH"));
  assert.not.ok(p.shouldRetry(status(200, "14"), "POST"), "the server may have acted on it");
  // idempotent methods keep Istio's gRPC retries under the default
  assert.ok(p.shouldRetry(status(200, "14"), "PUT"));
});

test("a written policy retries as Envoy does, whatever the method", () => {
  const p = compileRetryPolicy({ attempts: 2 });
  assert.ok(p.shouldRetry(status(200, "14"), "POST"));
  assert.ok(compileRetryPolicy({ attempts: 1, retryOn: "5xx" }).shouldRetry(status(503), "POST"));
});

test("attempts 0, or a retries block without attempts, disables retries", () => {
  for (const r of [{ attempts: 0 }, {}, { attempts: 0, retryOn: "5xx" }, { attempts: -1 }]) {
    const p = compileRetryPolicy(r);
    assert.is(p.maxRetries, 0);
    for (const o of Object.values(ALL)) assert.not.ok(p.shouldRetry(o, "GET"));
  }
  assert.is(compileRetryPolicy({ attempts: 5 }).maxRetries, 5);
});

test("5xx: any 5xx response, and resets, connect failures and per-try timeouts", () => {
  assert.equal(retried("5xx", ALL), ["500", "502", "503", "504", "599", "connect", "refused", "reset", "timeout"]);
});

test("gateway-error: 502, 503, 504, and the failures that become them", () => {
  assert.equal(retried("gateway-error", ALL), ["502", "503", "504", "connect", "refused", "reset", "timeout"]);
});

test("reset, connect-failure, refused-stream, reset-before-request", () => {
  assert.equal(retried("reset", ALL), ["connect", "refused", "reset", "timeout"]);
  assert.equal(retried("connect-failure", ALL), ["connect"]);
  assert.equal(retried("refused-stream", ALL), ["refused"]);
  assert.equal(retried("reset-before-request", ALL), ["connect"]);
});

test("retriable-4xx is 409 only", () => {
  assert.equal(retried("retriable-4xx", ALL), ["409"]);
});

test("retriable-status-codes with bare codes; bare codes alone turn it on", () => {
  assert.equal(retried("retriable-status-codes", ALL), []);
  assert.equal(retried("503", ALL), ["503"]);
  assert.equal(retried("retriable-status-codes,404,409", ALL), ["404", "409"]);
  assert.equal(retried(" 500 , connect-failure ", ALL), ["500", "connect"]);
});

test("gRPC conditions match the grpc-status value", () => {
  const cases: Array<[string, string]> = [
    ["cancelled", "1"], ["deadline-exceeded", "4"], ["resource-exhausted", "8"], ["internal", "13"], ["unavailable", "14"],
  ];
  for (const [name, code] of cases) {
    const p = compileRetryPolicy({ attempts: 1, retryOn: name });
    assert.ok(p.shouldRetry(status(200, code), "POST"), name);
    assert.not.ok(p.shouldRetry(status(200, "0"), "POST"), `${name} vs OK`);
    assert.not.ok(p.shouldRetry(status(503), "POST"), `${name} vs plain 503`);
  }
});

test("overflow is never retried; accepted-but-inert tokens match nothing", () => {
  assert.not.ok(compileRetryPolicy({ attempts: 3, retryOn: "5xx,reset,connect-failure,gateway-error" }).shouldRetry(OVERFLOW, "GET"));
  // no HTTP/3; retriable-headers with the empty list Istio leaves (it has no field for it), as in Envoy
  assert.equal(retried("http3-post-connect-failure,retriable-headers", ALL), []);
  assert.throws(() => compileRetryPolicy({ attempts: 1, retryOn: "5xx,sometimes" }), /sometimes/);
});

test("envoy-ratelimited: a response that carries x-envoy-ratelimited, whatever its status", () => {
  const limited: AttemptOutcome = { kind: "response", status: 429, headers: new Headers({ "x-envoy-ratelimited": "true" }) };
  const plain429: AttemptOutcome = { kind: "response", status: 429, headers: new Headers() };
  assert.equal(retried("envoy-ratelimited", { limited, plain429, ...ALL }), ["limited"]);
  assert.equal(retried("5xx", { limited }), [], "only when asked for");
});

test("perTryTimeout: given, else the route timeout, else none", () => {
  assert.is(compileRetryPolicy(undefined).perTryTimeoutMs, undefined);
  assert.is(compileRetryPolicy(undefined, 3000).perTryTimeoutMs, 3000);
  assert.is(compileRetryPolicy({ attempts: 2, perTryTimeout: 500 }, 3000).perTryTimeoutMs, 500);
  assert.is(compileRetryPolicy({ attempts: 2, perTryTimeout: 500 }).perTryTimeoutMs, 500);
  assert.is(compileRetryPolicy({ attempts: 2, perTryTimeout: 0 }, 3000).perTryTimeoutMs, 3000);
  assert.is(compileRetryPolicy({ attempts: 2 }, 0).perTryTimeoutMs, undefined);
  assert.is(compileRetryPolicy({ attempts: 0, perTryTimeout: 500 }, 3000).perTryTimeoutMs, 3000);
});

test("backoff: fully jittered within [0, (2^N − 1)·25 ms), capped at 250 ms", () => {
  const p = compileRetryPolicy(undefined);
  const bounds = [25, 75, 175, 250, 250, 250];
  bounds.forEach((bound, k) => {
    assert.is(p.backoffMs(k, () => 0), 0);
    assert.is(p.backoffMs(k, () => 0.999999999), bound - 1);
    assert.is(p.backoffMs(k, () => 1), bound - 1, "a random source that returns 1 stays in range");
    const random = seededRandom(k + 1);
    let min = Infinity;
    let max = -Infinity;
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const b = p.backoffMs(k, random);
      assert.ok(Number.isInteger(b) && b >= 0 && b < bound, `retry ${k + 1}: ${b}`);
      min = Math.min(min, b);
      max = Math.max(max, b);
      seen.add(b);
    }
    // jitter covers the whole range rather than clustering
    assert.ok(min < bound * 0.1 && max >= bound * 0.9, `retry ${k + 1}: ${min}..${max}`);
    assert.ok(seen.size > bound / 2, `retry ${k + 1}: ${seen.size} distinct`);
  });
  assert.is(p.backoffMs(1000, () => 0.999999999), BACKOFF_MAX_MS - 1);
});

test("idempotent methods per RFC 9110", () => {
  for (const m of ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]) assert.ok(isIdempotent(m), m);
  for (const m of ["POST", "PATCH", "CONNECT", "get"]) assert.not.ok(isIdempotent(m), m);
});

test("retries.backoff sets the base interval: bounds (2^N − 1)·base, capped at ten times it", () => {
  const p = compileRetryPolicy({ attempts: 5, backoff: 100 });
  [100, 300, 700, 1000, 1000].forEach((bound, k) => {
    assert.is(p.backoffMs(k, () => 0), 0);
    assert.is(p.backoffMs(k, () => 0.999999999), bound - 1, `retry ${k + 1}`);
  });
  // the default stays Envoy's 25 ms when backoff is absent
  assert.is(compileRetryPolicy({ attempts: 5 }).backoffMs(0, () => 0.999999999), 24);
  assert.is(compileRetryPolicy({ attempts: 5, backoff: 0.5 }).backoffMs(0, () => 0.999999999), 0);
});

test.run();
