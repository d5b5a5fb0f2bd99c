// OTLP/HTTP JSON span export: the body's shape (hex ids, integer enums, nanosecond strings),
// batching by size and by time on a fake clock, the bounded queue, and a failing collector.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { createRegistry } from "../../runtime/telemetry/metrics.ts";
import { collectSpanExport } from "../../runtime/telemetry/dietmesh-metrics.ts";
import { find, parseExposition } from "./prom-parse.ts";
import { createOtlpExporter, encodeTraces, httpSender, parseOtlpHeaders, unixNanos, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, type FinishedSpan } from "../../runtime/telemetry/otlp.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
function span(n: number, extra: Partial<FinishedSpan> = {}): FinishedSpan {
  return {
    span: { traceId: TRACE, spanId: n.toString(16).padStart(16, "0"), parentSpanId: "00f067aa0ba902b7", sampled: true, startTime: 1_700_000_000_000.5, requestId: `req-${n}` },
    name: "reviews.default.svc.cluster.local:9080/*",
    kind: "client",
    endTime: 1_700_000_000_012.25,
    statusCode: 200,
    attributes: { "http.method": "GET", "http.url": "http://reviews:9080/reviews/1", upstream_cluster: "outbound|9080||reviews.default.svc.cluster.local", response_flags: "-", request_size: 0, skipped: undefined },
    ...extra,
  };
}
/** a tiny receiver: records bodies, can be told to fail or to hold a send open */
function receiver() {
  const bodies: any[] = [];
  let fail = false;
  return {
    bodies,
    failNext: () => void (fail = true),
    send: async (body: string) => {
      if (fail) {
        fail = false;
        throw new Error("collector down");
      }
      bodies.push(JSON.parse(body));
    },
    spans: () => bodies.flatMap((b) => b.resourceSpans[0].scopeSpans[0].spans),
  };
}

test("unix nanos are exact decimal strings past 2^53", () => {
  assert.is(unixNanos(1_700_000_000_000), "1700000000000000000");
  assert.is(unixNanos(1_700_000_000_000.5), "1700000000000500000");
  assert.is(unixNanos(1.000001), "1000001");
  assert.is(unixNanos(0), "0000000");
});

test("body shape: resourceSpans → scopeSpans → spans, hex ids, integer enums, typed attributes", () => {
  const body = JSON.parse(encodeTraces({ "service.name": "productpage.default" }, [span(1), span(2, { kind: "server", statusCode: 503, span: { ...span(2).span, parentSpanId: undefined } })]));
  const rs = body.resourceSpans[0];
  assert.equal(rs.resource.attributes, [{ key: "service.name", value: { stringValue: "productpage.default" } }]);
  const [a, b] = rs.scopeSpans[0].spans;
  assert.is(a.traceId, TRACE);
  assert.is(a.spanId, "0000000000000001");
  assert.is(a.parentSpanId, "00f067aa0ba902b7");
  assert.is(a.kind, SPAN_KIND_CLIENT);
  assert.is(a.name, "reviews.default.svc.cluster.local:9080/*");
  assert.is(a.startTimeUnixNano, "1700000000000500000");
  assert.is(a.endTimeUnixNano, "1700000000012250000");
  assert.equal(a.status, { code: 0 });
  const attrs = Object.fromEntries(a.attributes.map((x: any) => [x.key, x.value]));
  assert.equal(attrs["http.method"], { stringValue: "GET" });
  assert.equal(attrs["http.status_code"], { intValue: "200" });
  assert.equal(attrs["request_size"], { intValue: "0" });
  assert.equal(attrs["guid:x-request-id"], { stringValue: "req-1" });
  assert.not.ok("skipped" in attrs);
  assert.is(b.kind, SPAN_KIND_SERVER);
  assert.not.ok("parentSpanId" in b, "a root span has no parent field");
  assert.equal(b.status, { code: 2 }, "5xx is an error, as in Envoy");
});

test("batching by time: spans wait for the flush delay, then go in one body", async () => {
  const clock = createFakeClock();
  const rx = receiver();
  const exp = createOtlpExporter({ send: rx.send, clock, resource: { "service.name": "x" }, flushMs: 1_000, maxBatch: 10 });
  exp.export(span(1));
  exp.export(span(2));
  await clock.advanceAsync(999);
  assert.is(rx.bodies.length, 0);
  await clock.advanceAsync(1);
  assert.is(rx.bodies.length, 1);
  assert.is(rx.spans().length, 2);
  assert.equal(exp.stats(), { queued: 0, exported: 2, dropped: 0, failed: 0, failedBatches: 0 });
});

test("batching by size: a full batch goes without waiting, in pieces of maxBatch", async () => {
  const clock = createFakeClock();
  const rx = receiver();
  const exp = createOtlpExporter({ send: rx.send, clock, resource: {}, flushMs: 60_000, maxBatch: 3 });
  for (let i = 1; i <= 7; i++) exp.export(span(i));
  assert.is(rx.bodies.length, 0, "export() never sends inline");
  await clock.advanceAsync(0);
  // once a send starts, the queue drains: the remainder rides along instead of waiting 60 s
  assert.equal(rx.bodies.map((b) => b.resourceSpans[0].scopeSpans[0].spans.length), [3, 3, 1]);
  assert.is(clock.pending(), 0, "no timer left behind");
});

test("unsampled spans are ignored; a full queue drops and counts", async () => {
  const clock = createFakeClock();
  const rx = receiver();
  const exp = createOtlpExporter({ send: rx.send, clock, resource: {}, maxQueued: 3, maxBatch: 100 });
  exp.export(span(0, { span: { ...span(0).span, sampled: false } }));
  for (let i = 1; i <= 5; i++) exp.export(span(i));
  assert.equal(exp.stats(), { queued: 3, exported: 0, dropped: 2, failed: 0, failedBatches: 0 });
  await exp.flush();
  assert.equal(rx.spans().map((s: any) => s.spanId.slice(-1)), ["1", "2", "3"]);
});

test("one send at a time; a failed send is counted and later batches still go", async () => {
  const clock = createFakeClock();
  let inFlight = 0;
  let maxInFlight = 0;
  const rx = receiver();
  const send = async (body: string) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return rx.send(body);
  };
  const errors: unknown[] = [];
  const exp = createOtlpExporter({ send, clock, resource: {}, maxBatch: 2, onError: (e) => errors.push(e) });
  rx.failNext();
  for (let i = 1; i <= 6; i++) exp.export(span(i));
  await exp.flush();
  assert.is(maxInFlight, 1);
  assert.equal(exp.stats(), { queued: 0, exported: 4, dropped: 0, failed: 2, failedBatches: 1 });
  assert.is(errors.length, 1);
});

test("dropped and failed spans are counters on /stats/prometheus, read at scrape time", async () => {
  const clock = createFakeClock();
  const rx = receiver();
  const registry = createRegistry();
  const exp = createOtlpExporter({ send: rx.send, clock, resource: {}, maxQueued: 3, maxBatch: 2 });
  collectSpanExport(registry, exp);
  const value = (name: string) => find(parseExposition(registry.expose()), name)[0]?.value;
  assert.is(value("dietmesh_otlp_spans_dropped_total"), 0);
  for (let i = 1; i <= 5; i++) exp.export(span(i));
  rx.failNext();
  await exp.flush();
  const families = parseExposition(registry.expose());
  assert.is(find(families, "dietmesh_otlp_spans_dropped_total")[0]?.value, 2, "queue full");
  assert.is(find(families, "dietmesh_otlp_spans_failed_total")[0]?.value, 2, "the first batch of two, given up");
  assert.is(find(families, "dietmesh_otlp_export_failures_total")[0]?.value, 1);
  assert.is(find(families, "dietmesh_otlp_spans_exported_total")[0]?.value, 1);
  assert.match(registry.expose(), /# TYPE dietmesh_otlp_spans_dropped_total counter/);
});

test("httpSender posts JSON to {endpoint}/v1/traces and rejects on an HTTP error", async () => {
  const calls: { url: string; init: RequestInit }[] = [];
  let status = 200;
  const fakeFetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response("", { status });
  }) as unknown as typeof fetch;
  const send = httpSender("http://collector:4318/", { fetchImpl: fakeFetch, attempts: 1 });
  await send('{"resourceSpans":[]}');
  assert.is(calls[0].url, "http://collector:4318/v1/traces");
  assert.is(calls[0].init.method, "POST");
  assert.equal(calls[0].init.headers, { "content-type": "application/json" });
  status = 503;
  try {
    await send("{}");
    assert.unreachable("should reject");
  } catch (e) {
    assert.match((e as Error).message, /HTTP 503/);
  }
});

test("httpSender: 503 and network failures are tried again with doubling delays, 400 is not; on a fake clock", async () => {
  const clock = createFakeClock();
  const answers: (number | "reset")[] = [503, "reset", 200];
  const tries: number[] = [];
  const fakeFetch = (async () => {
    tries.push(clock.now());
    const next = answers.shift()!;
    if (next === "reset") throw new Error("connection reset");
    return new Response("", { status: next });
  }) as unknown as typeof fetch;
  const sleep = (ms: number) => new Promise<void>((resolve) => void clock.setTimeout(resolve, ms));
  const send = httpSender("http://collector:4318", { fetchImpl: fakeFetch, sleep, backoffMs: 100 });
  const sent = send("{}");
  await clock.advanceAsync(100);
  await clock.advanceAsync(200);
  await sent;
  assert.equal(tries, [0, 100, 300], "three tries: at once, after 100 ms, after 200 ms more");
  answers.push(400);
  await send("{}").then(() => assert.unreachable("400 is final"), (e: Error) => assert.match(e.message, /HTTP 400/));
  assert.is(tries.length, 4, "a 400 is not tried again");
});

test("httpSender: gzip and extra headers (OTEL_EXPORTER_OTLP_HEADERS), a full /v1/traces URL kept", async () => {
  let seen: { url: string; init: RequestInit } | undefined;
  const fakeFetch = (async (url: string, init: RequestInit) => {
    seen = { url, init };
    return new Response("", { status: 200 });
  }) as unknown as typeof fetch;
  const headers = parseOtlpHeaders("api-key=s3cret, tenant=a%20b,broken");
  assert.equal(headers, { "api-key": "s3cret", tenant: "a b" });
  await httpSender("http://collector:4318/v1/traces", { fetchImpl: fakeFetch, gzip: true, headers })('{"resourceSpans":[]}');
  assert.is(seen!.url, "http://collector:4318/v1/traces");
  assert.equal(seen!.init.headers, { "api-key": "s3cret", tenant: "a b", "content-type": "application/json", "content-encoding": "gzip" });
  const unzipped = await new Response(new Blob([seen!.init.body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  assert.is(unzipped, '{"resourceSpans":[]}');
});

test.run();
