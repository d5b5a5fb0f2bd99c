// The inbound side's telemetry, in process (the inbound chain with the destination observer). The
// server span (filters/inbound-trace.ts): a sampled incoming trace gets a span of this proxy's,
// child of the caller's, exported as SPAN_KIND_SERVER; the app sees the trace headers rewritten with
// the server span as parent (as Envoy's inbound); unsampled requests and those with no context reach
// the app unchanged and make no span; a request answered locally still has its server span. The
// access log names the app as Envoy's inbound side does: upstream host, inbound|<port>||, default,
// and has the upstream service time (the request to the app to its response head).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inboundHandler } from "../../runtime/filters/chains.ts";
import { toAppTerminal } from "../../runtime/filters/to-app.ts";
import { createObserver } from "../../runtime/telemetry/observe.ts";
import { createTracer } from "../../runtime/telemetry/trace-context.ts";
import type { FinishedSpan, OtlpExporter } from "../../runtime/telemetry/otlp.ts";
import type { IstioMetrics } from "../../runtime/telemetry/istio-metrics.ts";
import type { AccessLogEntry } from "../../runtime/telemetry/access-log.ts";
import { createMirrorSender } from "../../runtime/router/mirror.ts";
import { createClusterStates } from "../../runtime/upstream/cluster-state.ts";
import { poolOverClient } from "../../runtime/upstream/client-pool.ts";
import type { PipelineDeps } from "../../runtime/router/pipeline-deps.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
import { UpstreamError, type UpstreamClient } from "../../runtime/platform/types.ts";
import { toWebResponse } from "../../runtime/exchange/web-request.ts";
import type { HttpRequest } from "../../runtime/exchange/types.ts";
import { HeaderList } from "../../runtime/exchange/header-list.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const SERVICE = Object.freeze({ host: "b.default.svc.cluster.local", name: "b", namespace: "default" });

function side(fail = false) {
  const seen: Headers[] = [];
  const lines: AccessLogEntry[] = [];
  const spans: FinishedSpan[] = [];
  /** the observer's and the terminal's clock: the app takes 7 ms to answer */
  let time = 1_000;
  const upstream: UpstreamClient = {
    send(request) {
      seen.push(new Headers(request.headers));
      time += 7;
      if (fail) return Promise.reject(new UpstreamError("connect", "connection refused"));
      return Promise.resolve(new Response("ok", { headers: { "content-length": "2" } }) as never);
    },
  };
  const random = () => 0.5;
  const deps: PipelineDeps = {
    upstream,
    clusters: createClusterStates(() => poolOverClient(upstream), systemClock),
    clock: systemClock,
    random,
    newRequestId: () => "rid",
    mirror: createMirrorSender(upstream, random),
    log: () => {},
    // 0 %: only a caller's sampled decision makes a span
    tracer: createTracer({ now: () => 1_000, samplingPercent: 0, newRequestId: () => "rid" }),
  };
  const exporter: OtlpExporter = { export: (s) => void spans.push(s), flush: async () => {}, stats: () => ({ queued: 0, exported: 0, dropped: 0, failed: 0, failedBatches: 0 }) };
  const metrics: IstioMetrics = { seriesFor: () => ({ observe() {} }) };
  const observer = createObserver({ reporter: "destination", metrics, spans: exporter, port: 9080, localServiceFor: () => SERVICE, now: () => time, accessLog: () => ({ log: (e: AccessLogEntry) => void lines.push(e) }) as never });
  const terminal = toAppTerminal("127.0.0.1:9080", deps, undefined, () => time);
  const handler = inboundHandler({ app: "127.0.0.1:9080", deps, observer, security: () => undefined, appPort: 9080, terminal });
  const call = async (headers: Record<string, string>) => {
    const request: HttpRequest = { method: "GET", url: "http://b/x", headers: new HeaderList(Object.entries(headers)), body: null };
    const response = toWebResponse(await handler(request, { remoteAddress: "10.0.0.9", remotePort: 1234 }));
    await response.text();
    return response;
  };
  return { call, seen, spans, lines };
}

test("a sampled traceparent: a server span, child of the caller's; the app's parent is the server span", async () => {
  const s = side();
  const response = await s.call({ host: "b:8080", traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
  assert.is(response.status, 200);
  assert.is(s.spans.length, 1);
  const span = s.spans[0];
  assert.is(span.kind, "server");
  assert.is(span.span.traceId, TRACE);
  assert.is(span.span.parentSpanId, CALLER_SPAN);
  assert.is.not(span.span.spanId, CALLER_SPAN);
  assert.ok(span.span.sampled);
  assert.is(span.name, "b.default.svc.cluster.local:9080/*", "Istio's inbound operation name");
  assert.is(span.statusCode, 200);
  const app = s.seen[0];
  assert.is(app.get("traceparent"), `00-${TRACE}-${span.span.spanId}-01`, "the app's parent is the server span");
  assert.is(app.get("x-b3-spanid"), span.span.spanId);
  assert.is(app.get("x-b3-parentspanid"), CALLER_SPAN);
});

test("B3 headers with a sampled decision make a server span too", async () => {
  const s = side();
  await s.call({ host: "b:8080", "x-b3-traceid": TRACE, "x-b3-spanid": CALLER_SPAN, "x-b3-sampled": "1" });
  assert.is(s.spans.length, 1);
  assert.is(s.spans[0].span.traceId, TRACE);
  assert.is(s.spans[0].span.parentSpanId, CALLER_SPAN);
  assert.is(s.seen[0].get("x-b3-spanid"), s.spans[0].span.spanId);
});

test("unsampled, or no context: no span, the app gets the headers as they came", async () => {
  const s = side();
  const unsampled = `00-${TRACE}-${CALLER_SPAN}-00`;
  await s.call({ host: "b:8080", traceparent: unsampled, "x-b3-sampled": "0" });
  await s.call({ host: "b:8080" });
  assert.is(s.spans.length, 0);
  assert.is(s.seen[0].get("traceparent"), unsampled);
  assert.is(s.seen[0].get("x-b3-spanid"), null);
  assert.is(s.seen[1].get("traceparent"), null, "the inbound side starts no trace of its own");
});

test("a request answered locally (400: no Host) still has its server span, as in Envoy", async () => {
  const s = side();
  const response = await s.call({ traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
  assert.is(response.status, 400);
  assert.is(s.seen.length, 0);
  assert.is(s.spans.length, 1);
  assert.is(s.spans[0].kind, "server");
  assert.is(s.spans[0].statusCode, 400);
  assert.is(s.spans[0].span.parentSpanId, CALLER_SPAN);
});

test("the access log names the app (upstream host, cluster inbound|<port>||, route default) and its service time", async () => {
  const s = side();
  await s.call({ host: "b:8080" });
  assert.is(s.lines[0].upstreamHost, "127.0.0.1:9080");
  assert.is(s.lines[0].upstreamCluster, "inbound|9080||");
  assert.is(s.lines[0].routeName, "default");
  assert.is(s.lines[0].upstreamServiceTime, 7, "from the request to the app to its response head");
  // the app refusing the connection: still the host tried, as Envoy logs it with UF
  const down = side(true);
  const response = await down.call({ host: "b:8080", traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
  assert.is(response.status, 503);
  assert.is(down.lines[0].upstreamHost, "127.0.0.1:9080");
  assert.is(down.lines[0].upstreamCluster, "inbound|9080||");
  assert.is(down.lines[0].upstreamServiceTime, undefined, "no upstream answered");
  assert.is(down.spans[0].attributes.upstream_cluster, "inbound|9080||");
  // answered before the app (400: no Host): the app's cluster and route, no upstream host, as Envoy's inbound logs it
  const local = side();
  assert.is((await local.call({})).status, 400);
  assert.is(local.lines[0].upstreamCluster, "inbound|9080||");
  assert.is(local.lines[0].routeName, "default");
  assert.is(local.lines[0].upstreamHost, undefined);
});

test.run();
