// Trace context: W3C traceparent validation (W3C Trace Context §3.2), B3 multi and single, child
// spans that keep the trace id and sampling, tracestate pass-through, sampling of new traces.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createTracer, incomingSampled, parseB3Multi, parseB3Single, parseTraceparent, pooledCryptoFill, validTracestate, type FillRandom } from "../../runtime/telemetry/trace-context.ts";
import { seededRandom } from "../resilience/seeded-random.ts";
import { HeaderList } from "../../runtime/exchange/header-list.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const valid = `00-${TRACE}-${SPAN}-01`;

/** deterministic bytes: 0x01, 0x02, … so ids are predictable */
function counting(): FillRandom {
  let n = 0;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = ++n & 0xff;
  };
}
const seeded = (seed: number): FillRandom => {
  const r = seededRandom(seed);
  return (bytes) => bytes.forEach((_, i) => (bytes[i] = Math.floor(r() * 256)));
};
const tracer = (samplingPercent = 1, random: FillRandom = counting()) =>
  createTracer({ random, samplingPercent, now: () => 1_000, newRequestId: () => "req-1" });

test("traceparent: a valid version-00 header parses", () => {
  assert.equal(parseTraceparent(valid), { traceId: TRACE, spanId: SPAN, sampled: true });
  assert.is(parseTraceparent(`00-${TRACE}-${SPAN}-00`)!.sampled, false);
  assert.is(parseTraceparent(`00-${TRACE}-${SPAN}-03`)!.sampled, true, "other flag bits don't hide sampled");
  assert.is(parseTraceparent(`00-${TRACE}-${SPAN}-0b`)!.sampled, true);
  assert.is(parseTraceparent(`00-${TRACE}-${SPAN}-0a`)!.sampled, false);
});

test("traceparent: invalid headers are rejected", () => {
  const bad = [
    `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
    `00-${"0".repeat(32)}-${SPAN}-01`, // all-zero trace id
    `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
    `00-${TRACE.slice(1)}-${SPAN}-01`, // short trace id
    `00-${TRACE}-${SPAN}0-01`, // long parent id
    `00-${TRACE.toUpperCase()}-${SPAN}-01`, // upper-case hex
    `00-${TRACE}-${SPAN.toUpperCase()}-01`,
    `00-${TRACE}-${SPAN}-0g`, // non-hex flags
    `00-${TRACE}-${SPAN}-01-extra`, // version 00 has exactly four fields
    `0-${TRACE}-${SPAN}-01`,
    `00_${TRACE}_${SPAN}_01`,
    "",
  ];
  for (const b of bad) assert.is(parseTraceparent(b), undefined, b);
  assert.is(parseTraceparent(null), undefined);
});

test("traceparent: a future version may carry more fields after a dash", () => {
  assert.ok(parseTraceparent(`01-${TRACE}-${SPAN}-01-whatever`));
  assert.is(parseTraceparent(`01-${TRACE}-${SPAN}-01x`), undefined);
});

test("a child span keeps the trace id and sampled flag, gets a new span id, parent = incoming", () => {
  const h = new Headers({ traceparent: valid, tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" });
  const span = tracer(0).propagate(h);
  assert.is(span.traceId, TRACE);
  assert.is(span.parentSpanId, SPAN);
  assert.is.not(span.spanId, SPAN);
  assert.ok(/^[0-9a-f]{16}$/.test(span.spanId));
  assert.is(span.sampled, true, "the caller's decision wins over our 0 %");
  assert.is(span.startTime, 1_000);
  assert.is(h.get("traceparent"), `00-${TRACE}-${span.spanId}-01`);
  assert.is(h.get("tracestate"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "tracestate unchanged");
  assert.is(h.get("x-b3-traceid"), TRACE);
  assert.is(h.get("x-b3-spanid"), span.spanId);
  assert.is(h.get("x-b3-parentspanid"), SPAN);
  assert.is(h.get("x-b3-sampled"), "1");
  assert.is(h.get("x-request-id"), "req-1");
  assert.is(span.requestId, "req-1");
});

test("an unsampled parent stays unsampled even at 100 %", () => {
  const h = new Headers({ traceparent: `00-${TRACE}-${SPAN}-00` });
  assert.is(tracer(100).propagate(h).sampled, false);
  assert.ok(h.get("traceparent")!.endsWith("-00"));
});

test("tracestate is dropped when too long, malformed, or without a valid traceparent", () => {
  assert.ok(validTracestate("a=1,b=2"));
  assert.not.ok(validTracestate("x".repeat(513)));
  assert.not.ok(validTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",")));
  assert.not.ok(validTracestate("no-equals-sign"));
  const h = new Headers({ traceparent: `ff-${TRACE}-${SPAN}-01`, tracestate: "a=1" });
  tracer().propagate(h);
  assert.is(h.get("tracestate"), null);
});

test("an existing x-request-id is kept", () => {
  const h = new Headers({ "x-request-id": "abc" });
  assert.is(tracer().propagate(h).requestId, "abc");
  assert.is(h.get("x-request-id"), "abc");
});

test("B3 multi: 64-bit and 128-bit trace ids, parent = incoming span, sampling kept", () => {
  const short = "a3ce929d0e0e4736";
  const h = new Headers({ "x-b3-traceid": short, "x-b3-spanid": SPAN, "x-b3-parentspanid": "1111111111111111", "x-b3-sampled": "1" });
  const span = tracer(0).propagate(h);
  assert.is(span.traceId, "0000000000000000" + short);
  assert.is(span.parentSpanId, SPAN);
  assert.is(span.sampled, true);
  assert.is(h.get("x-b3-traceid"), short, "B3 keeps the id length it came with");
  assert.is(h.get("x-b3-parentspanid"), SPAN);
  assert.is(h.get("traceparent"), `00-0000000000000000${short}-${span.spanId}-01`);
  assert.equal(parseB3Multi(new Headers({ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN })), { traceId: TRACE, b3TraceIdLength: 32, spanId: SPAN, sampled: undefined, debug: false });
  assert.is(parseB3Multi(new Headers({ "x-b3-traceid": "0".repeat(16), "x-b3-spanid": SPAN })), undefined);
});

test("B3 debug flag means sampled and is passed on instead of x-b3-sampled", () => {
  const h = new Headers({ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-flags": "1" });
  assert.is(tracer(0).propagate(h).sampled, true);
  assert.is(h.get("x-b3-flags"), "1");
  assert.is(h.get("x-b3-sampled"), null);
});

test("B3 single: full form, sampling-only form, invalid forms", () => {
  assert.equal(parseB3Single(`${TRACE}-${SPAN}-1-1111111111111111`), { traceId: TRACE, b3TraceIdLength: 32, spanId: SPAN, sampled: true, debug: false });
  assert.equal(parseB3Single(`${TRACE}-${SPAN}`)!.sampled, undefined);
  assert.equal(parseB3Single("0"), { traceId: "", sampled: false, debug: false });
  assert.is(parseB3Single(`${TRACE}-${SPAN}-x`), undefined);
  assert.is(parseB3Single(`${TRACE}-short`), undefined);
  assert.is(parseB3Single("zz"), undefined);
  const h = new Headers({ b3: `${TRACE}-${SPAN}-1` });
  const span = tracer(0).propagate(h);
  assert.is(span.parentSpanId, SPAN);
  assert.is(h.get("b3"), `${TRACE}-${span.spanId}-1-${SPAN}`);
  const deny = new Headers({ b3: "0" });
  const s2 = tracer(100).propagate(deny);
  assert.is(s2.sampled, false, "a sampling-only b3 decides, a new trace starts");
  assert.is(s2.parentSpanId, undefined);
  assert.is(deny.get("b3"), `${s2.traceId}-${s2.spanId}-0`);
});

test("W3C wins when both formats arrive and disagree; B3 is rewritten to match", () => {
  const h = new Headers({ traceparent: valid, "x-b3-traceid": "1".repeat(32), "x-b3-spanid": "2".repeat(16), "x-b3-sampled": "0" });
  const span = tracer().propagate(h);
  assert.is(span.traceId, TRACE);
  assert.is(h.get("x-b3-traceid"), TRACE);
  assert.is(h.get("x-b3-sampled"), "1");
});

test("no context: a new trace with fresh non-zero ids, no parent", () => {
  const h = new Headers({ "x-b3-parentspanid": SPAN });
  const span = tracer(100).propagate(h);
  assert.ok(/^[0-9a-f]{32}$/.test(span.traceId) && !/^0+$/.test(span.traceId));
  assert.is(span.traceId, "0102030405060708090a0b0c0d0e0f10", "ids come from the injected random bytes");
  assert.is(span.parentSpanId, undefined);
  assert.is(h.get("x-b3-parentspanid"), null, "a stale parent header is removed");
  let calls = 0;
  const zerosFirst = createTracer({ random: (b) => void b.fill(calls++ === 0 ? 0 : 9), samplingPercent: 0, now: () => 0 });
  assert.is(zerosFirst.propagate(new Headers()).traceId, "09".repeat(16), "an all-zero draw is drawn again");
});

test("sampling of new traces follows the percentage (seeded), 0 and 100 are exact", () => {
  const count = (percent: number) => {
    const t = tracer(percent, seeded(42));
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (t.propagate(new Headers()).sampled) n++;
    return n;
  };
  assert.is(count(0), 0);
  assert.is(count(100), 10_000);
  const one = count(1);
  assert.ok(one > 60 && one < 140, `1 % of 10 000 ≈ 100, got ${one}`);
  const ten = count(10);
  assert.ok(ten > 880 && ten < 1120, `10 % ≈ 1000, got ${ten}`);
});

test("the pooled system randomness hands each byte out once: draws across a refill differ, a draw larger than the pool is still filled", () => {
  const fill = pooledCryptoFill(64);
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const bytes = new Uint8Array(28);
    fill(bytes);
    seen.add(Array.from(bytes).join(","));
  }
  assert.is(seen.size, 50); // 28 random bytes repeating would be a reuse of the pool
  const big = new Uint8Array(100);
  fill(big);
  assert.ok(big.some((b) => b !== 0));
});

test("ids written by the default tracer are lower-case hex of the right lengths", () => {
  const tracer = createTracer({ now: () => 0 });
  for (let i = 0; i < 20; i++) {
    const headers = new Headers();
    const span = tracer.propagate(headers);
    assert.match(span.traceId, /^[0-9a-f]{32}$/);
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.is(headers.get("traceparent"), `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`);
  }
});

test("a header list with no context (the quick path) gets the fields, order and span the general path gives", () => {
  for (const [percent, init] of [[100, { host: "a" }], [0, { host: "a", "x-request-id": "mine" }], [100, { host: "a", "x-request-id": "" }]] as const) {
    const list = new HeaderList(init);
    // the same request through the general path: a Headers (sorted on reading)
    const plain = new Headers(init);
    const fast = tracer(percent).propagate(list);
    const general = tracer(percent).propagate(plain);
    assert.equal(fast, general);
    assert.equal([...list], [...plain]);
    assert.is(list.getAll("x-request-id").length, 1, "an empty x-request-id is replaced, not added to");
  }
  const list = new HeaderList({ host: "a" });
  tracer(100).propagate(list);
  assert.equal(list.fieldNames, ["host", "x-request-id", "traceparent", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]);
  // a header list with context takes the general path: the parent is kept
  for (const init of [{ traceparent: valid }, { "x-b3-traceid": TRACE, "x-b3-spanid": SPAN }, { b3: `${TRACE}-${SPAN}-1` }] as Record<string, string>[]) {
    assert.is(tracer().propagate(new HeaderList(init)).parentSpanId, SPAN);
  }
  const stale = new HeaderList({ tracestate: "a=b", "x-b3-flags": "0" });
  tracer().propagate(stale);
  assert.is(stale.get("tracestate"), null, "tracestate without traceparent is dropped");
  assert.is(stale.get("x-b3-flags"), null);
});

test("incomingSampled says what propagate would keep: sampled only when the caller decided so", () => {
  const cases: [Record<string, string>, boolean][] = [
    [{}, false],
    [{ traceparent: valid }, true],
    [{ traceparent: `00-${TRACE}-${SPAN}-00` }, false],
    [{ traceparent: `00-${TRACE}-${SPAN}-00`, "x-b3-sampled": "1" }, false], // W3C wins
    [{ traceparent: "garbage", "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-sampled": "1" }, true], // an invalid one is skipped
    [{ b3: `${TRACE}-${SPAN}-1` }, true],
    [{ b3: `${TRACE}-${SPAN}-0`, "x-b3-sampled": "1" }, false], // single b3 before multi
    [{ b3: "d" }, true],
    [{ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN }, false], // the decision left to this proxy
    [{ "x-b3-traceid": TRACE, "x-b3-spanid": SPAN, "x-b3-sampled": "true" }, true],
    [{ "x-b3-flags": "1" }, true],
  ];
  for (const [init, expected] of cases) {
    for (const headers of [new HeaderList(init), new Headers(init)]) {
      assert.is(incomingSampled(headers), expected, JSON.stringify(init));
      // the same decision propagate keeps (at 0 %, a decision left to it is "not sampled")
      assert.is(tracer(0).propagate(headers).sampled, expected, `propagate: ${JSON.stringify(init)}`);
    }
  }
});

test.run();
