// The observer's gRPC reading: request_protocol "grpc" and grpc_response_status from the trailers
// (recorded once they arrive), from a trailers-only head, from a local reply as the client gets it
// (HTTP 200 + its grpc-status), or from the HTTP status mapped when the response carries none.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createObserver } from "../../runtime/telemetry/observe.ts";
import type { IstioMetrics, SeriesInput } from "../../runtime/telemetry/istio-metrics.ts";
import type { AccessLogEntry } from "../../runtime/telemetry/access-log.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import { MeshResponse } from "../../runtime/exchange/response.ts";
import { localReply } from "../../runtime/exchange/local-reply.ts";
import { ProxyError } from "../../runtime/exchange/errors.ts";
import type { HttpRequest } from "../../runtime/exchange/types.ts";

function harness() {
  const series: SeriesInput[] = [];
  const lines: AccessLogEntry[] = [];
  const metrics: IstioMetrics = { seriesFor: (input) => (series.push(input), { observe() {} }) };
  const observer = createObserver({ reporter: "source", metrics, accessLog: () => ({ log: (e: AccessLogEntry) => void lines.push(e) }) as never, now: () => 10 });
  const observe = (request: HttpRequest, response: MeshResponse | Response, record = new RequestRecord(0)) =>
    observer.observe(request, "/dm.Echo/Unary", { remoteAddress: "127.0.0.1", remotePort: 1 }, record, response as never, 0);
  return { series, lines, observe };
}

const grpcRequest: HttpRequest = { method: "POST", url: "http://echo/dm.Echo/Unary", headers: new Headers({ "content-type": "application/grpc" }), body: null, protocol: "h2" };
const httpRequest: HttpRequest = { method: "GET", url: "http://echo/", headers: new Headers(), body: null };

test("status in the trailers: recorded once they have come", async () => {
  const h = harness();
  let deliver!: (t: Headers) => void;
  const trailers = new Promise<Headers | undefined>((resolve) => (deliver = resolve));
  h.observe(grpcRequest, new MeshResponse(200, "", new Headers({ "content-type": "application/grpc" }), null, trailers));
  assert.is(h.series.length, 0, "nothing before the trailers");
  deliver(new Headers({ "grpc-status": "5", "grpc-message": "gone" }));
  await trailers;
  await Promise.resolve();
  assert.is(h.series.length, 1);
  assert.is(h.series[0].protocol, "grpc");
  assert.is(h.series[0].grpcStatus, 5);
  assert.is(h.series[0].code, 200);
  assert.is(h.lines[0].grpcStatus, 5);
  assert.is(h.lines[0].protocol, "HTTP/2");
});

test("trailers-only: the status in the head, at once", () => {
  const h = harness();
  h.observe(grpcRequest, new MeshResponse(200, "", new Headers({ "grpc-status": "14" }), null, new Promise(() => {})));
  assert.is(h.series.length, 1);
  assert.is(h.series[0].grpcStatus, 14);
});

test("a local reply counts as the client sees it: 200 and the mapped or chosen grpc-status", () => {
  const h = harness();
  h.observe(grpcRequest, localReply(new ProxyError("no-healthy-upstream"), new RequestRecord(0)));
  h.observe(grpcRequest, localReply(new ProxyError("upstream-timeout", "", undefined, "", { "grpc-status": "4" }), new RequestRecord(0)));
  assert.equal(h.series.map((s) => [s.code, s.grpcStatus]), [[200, 14], [200, 4]]);
  assert.equal(h.lines.map((l) => [l.responseCode, l.grpcStatus]), [[200, 14], [200, 4]]);
});

test("no status anywhere: the HTTP status mapped (503 → UNAVAILABLE), also when the trailers fail", async () => {
  const h = harness();
  h.observe(grpcRequest, new MeshResponse(503, "", new Headers(), null));
  const failing = Promise.reject(new Error("reset"));
  h.observe(grpcRequest, new MeshResponse(404, "", new Headers(), null, failing));
  await failing.catch(() => {});
  await Promise.resolve();
  assert.equal(h.series.map((s) => [s.code, s.grpcStatus]), [[503, 14], [404, 12]]);
});

test("plain HTTP: protocol http, no gRPC status, HTTP/1.1 in the log", () => {
  const h = harness();
  h.observe(httpRequest, new MeshResponse(200, "", new Headers({ "grpc-status": "3" }), null));
  assert.is(h.series[0].protocol, "http");
  assert.is(h.series[0].grpcStatus, undefined);
  assert.is(h.lines[0].protocol, "HTTP/1.1");
  assert.is(h.lines[0].grpcStatus, undefined);
});

test("a local reply's body counts as response bytes (it has no Content-Length header; the server writes one), but not to a gRPC client, who gets it trailers-only", () => {
  const h = harness();
  const reply = localReply(new ProxyError("no-healthy-upstream"), new RequestRecord(0));
  assert.is(reply.headers.get("content-length"), null, "the case this covers: no header to read");
  h.observe(httpRequest, reply);
  h.observe(grpcRequest, localReply(new ProxyError("no-healthy-upstream"), new RequestRecord(0)));
  assert.is(h.lines[0].bytesSent, "no healthy upstream".length);
  assert.is(h.lines[1].bytesSent, 0);
});

test("upstream service time: from the upstream request's start to the head, for a gRPC call too (reported at its trailers)", async () => {
  const lines: AccessLogEntry[] = [];
  const metrics: IstioMetrics = { seriesFor: () => ({ observe() {} }) };
  const clock = [5, 9]; // the head, then the trailers
  const observer = createObserver({ reporter: "source", metrics, accessLog: () => ({ log: (e: AccessLogEntry) => void lines.push(e) }) as never, now: () => clock.shift() ?? 20 });
  const record = new RequestRecord(0);
  record.upstreamStartMs = 2;
  let deliver!: (t: Headers) => void;
  const trailers = new Promise<Headers | undefined>((resolve) => (deliver = resolve));
  observer.observe(grpcRequest, "/dm.Echo/Unary", { remoteAddress: "127.0.0.1", remotePort: 1 }, record, new MeshResponse(200, "", new Headers({ "content-type": "application/grpc" }), null, trailers) as never, 0);
  deliver(new Headers({ "grpc-status": "0" }));
  await trailers;
  await Promise.resolve();
  assert.is(lines[0].upstreamServiceTime, 3);
  assert.is(lines[0].durationMs, 9);
  // no upstream answered (a local reply): none
  const h = harness();
  h.observe(httpRequest, new MeshResponse(200, "", new Headers(), null));
  assert.is(h.lines[0].upstreamServiceTime, undefined);
});


test("reportSpans false (a Telemetry's disableSpanReporting): a sampled span is not exported; true, it is", () => {
  const exported: unknown[] = [];
  const spans = { export: (s: unknown) => void exported.push(s), flush: async () => {}, stats: () => ({ queued: 0, exported: 0, dropped: 0, failed: 0, failedBatches: 0 }) };
  let report = false;
  const metrics: IstioMetrics = { seriesFor: () => ({ observe() {} }) };
  const observer = createObserver({ reporter: "source", metrics, spans: spans as never, reportSpans: () => report, now: () => 10 });
  const sampled = () => {
    const record = new RequestRecord(0);
    record.span = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true, startTime: 0, requestId: "r" };
    return record;
  };
  observer.observe(httpRequest, "/", { remoteAddress: "127.0.0.1", remotePort: 1 }, sampled(), new MeshResponse(200, "", new Headers(), null) as never, 0);
  assert.is(exported.length, 0);
  report = true;
  observer.observe(httpRequest, "/", { remoteAddress: "127.0.0.1", remotePort: 1 }, sampled(), new MeshResponse(200, "", new Headers(), null) as never, 0);
  assert.is(exported.length, 1);
});

test.run();
