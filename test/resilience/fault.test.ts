// Fault injection: which share of requests is delayed or aborted, and how the two relate.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { HTTPFaultInjection } from "../../runtime/config/types.ts";
import { compileFault, faultShare, type CompiledFault } from "../../runtime/resilience/fault.ts";
import { seededRandom } from "./seeded-random.ts";

const N = 10_000;
/** ±4.5 standard deviations of a binomial count: a seeded run never flakes, a wrong share fails */
function near(count: number, share: number, label: string): void {
  const p = share / 100;
  const tolerance = 4.5 * Math.sqrt(N * p * (1 - p)) + 1;
  assert.ok(Math.abs(count - N * p) <= tolerance, `${label}: ${count} of ${N}, expected ~${N * p} ± ${tolerance.toFixed(0)}`);
}
function tally(f: CompiledFault) {
  const c = { delayed: 0, aborted: 0, both: 0, neither: 0 };
  for (let i = 0; i < N; i++) {
    const d = f.decide();
    const delayed = d.delayMs > 0;
    const aborted = d.abortStatus !== undefined || d.grpcStatus !== undefined;
    if (delayed) c.delayed++;
    if (aborted) c.aborted++;
    if (delayed && aborted) c.both++;
    if (!delayed && !aborted) c.neither++;
  }
  return c;
}
const compile = (f: HTTPFaultInjection, seed = 1) => compileFault(f, seededRandom(seed))!;

test("no fault, or no percentage at all, injects nothing", () => {
  assert.is(compileFault(undefined, Math.random), undefined);
  assert.is(compileFault({}, Math.random), undefined);
  // Istio translates a missing percent as 0 %: neither given → no request is touched
  assert.is(compileFault({ delay: { fixedDelay: 5000 }, abort: { httpStatus: 503 } }, Math.random), undefined);
  assert.is(compileFault({ abort: { httpStatus: 503, percentage: { value: 0 } } }, Math.random), undefined);
  assert.is(compileFault({ delay: { fixedDelay: 0, percent: 100 } }, Math.random), undefined);
});

test("delay share over 10k draws", () => {
  const c = tally(compile({ delay: { fixedDelay: 7000, percentage: { value: 30 } } }));
  near(c.delayed, 30, "delayed");
  assert.is(c.aborted, 0);
});

test("abort share with the deprecated integer percent", () => {
  const f = compile({ abort: { httpStatus: 400, percent: 10 } }, 2);
  near(tally(f).aborted, 10, "aborted");
  let d;
  do d = f.decide();
  while (d.abortStatus === undefined);
  assert.equal(d, { delayMs: 0, abortStatus: 400 });
});

test("fractional percentage.value wins over percent", () => {
  assert.is(faultShare({ percentage: { value: 0.5 }, percent: 100 }), 0.5);
  assert.is(faultShare({ percent: 40 }), 40);
  assert.is(faultShare({}), 0);
  assert.is(faultShare({ percentage: { value: 150 } }), 100);
  near(tally(compile({ abort: { httpStatus: 503, percentage: { value: 0.5 }, percent: 100 } }, 3)).aborted, 0.5, "aborted");
});

test("delay and abort are independent draws", () => {
  const c = tally(compile({ delay: { fixedDelay: 100, percentage: { value: 50 } }, abort: { httpStatus: 503, percentage: { value: 20 } } }, 4));
  near(c.delayed, 50, "delayed");
  near(c.aborted, 20, "aborted");
  near(c.both, 10, "delayed and aborted"); // P(both) = P(delay)·P(abort)
  near(c.neither, 40, "neither");
});

test("a delayed request may also be aborted; 100 % always applies", () => {
  const f = compile({ delay: { fixedDelay: 250, percent: 100 }, abort: { httpStatus: 418, percentage: { value: 100 } } });
  assert.equal(f.decide(), { delayMs: 250, abortStatus: 418 });
  const c = tally(f);
  assert.is(c.both, N);
});

test("gRPC aborts carry the grpc-status value", () => {
  const f = compile({ abort: { grpcStatus: "UNAVAILABLE", percent: 100 } });
  assert.equal(f.decide(), { delayMs: 0, grpcStatus: "14" });
  assert.equal(compile({ abort: { grpcStatus: "8", percent: 100 } }).decide(), { delayMs: 0, grpcStatus: "8" });
  assert.throws(() => compile({ abort: { grpcStatus: "NOT_A_CODE", percent: 100 } }), /gRPC status/);
  assert.throws(() => compile({ abort: { grpcStatus: "constructor", percent: 100 } }), /gRPC status/);
});

test("same seed, same decisions", () => {
  const spec: HTTPFaultInjection = { delay: { fixedDelay: 1, percent: 50 }, abort: { httpStatus: 500, percent: 50 } };
  const a = compile(spec, 9);
  const b = compile(spec, 9);
  for (let i = 0; i < 100; i++) assert.equal(a.decide(), b.decide());
});

test.run();
