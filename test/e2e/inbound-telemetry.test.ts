// End to end, the inbound side's telemetry with real processes over mTLS: sidecar A calls B's
// inbound side; both export spans to one OTLP/HTTP sink. B exports a server span, child of A's
// client span in the same trace, and the app behind B sees the server span as its parent (Envoy's
// inbound rewrites the trace headers). The exporter's counts are on /stats/prometheus: a sidecar
// whose collector refuses its batches counts them as failed. B's access log names the app as
// Envoy's inbound side does (upstream host, inbound|<port>||, route default) and has the upstream
// service time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, metricValue, must, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

const app = startEcho("b-app");
/** the OTLP/HTTP sink: every span POSTed to /v1/traces, with the service.name of its batch */
const spans: (OtlpSpan & { service: string })[] = [];
const sink = platform.serve({
  hostname: "127.0.0.1",
  port: 0,
  async handler(request) {
    const path = new URL(request.url).pathname;
    if (path === "/reject/v1/traces") return new Response("no", { status: 400 }); // not retryable: given up at once
    if (request.method === "POST" && path === "/v1/traces") {
      for (const rs of (await request.json()).resourceSpans) {
        const service = rs.resource.attributes.find((a: { key: string }) => a.key === "service.name")?.value.stringValue;
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, service });
      }
    }
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
});
let a: Sidecar;
let b: Sidecar;
let work: string;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-spans-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const otlp = ["--otlp-endpoint", `http://127.0.0.1:${sink.port}`, "--trace-sampling", "100"];
  const bConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: "127.0.0.1:9", labels: { app: "b" } }]) });
  b = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b", "--access-log", "json", ...otlp]);
  const aConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]) });
  a = await startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a", "--labels", "app=a", ...otlp]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await sink.stop(true);
  await platform.remove(work);
});

test("B exports a server span, child of A's client span, same trace; the app's parent is B's span", async () => {
  const r = await curl(["-H", "Host: b:8080", `http://${a.outbound}/traced`]);
  assert.is(r.status, 200, r.body);
  const client = await eventually(async () => spans.find((s) => s.service === "a.default" && s.kind === 3), 5000, "A's client span");
  const server = await eventually(async () => spans.find((s) => s.service === "b.default" && s.kind === 2), 5000, "B's server span");
  assert.is(server.traceId, client.traceId, "same trace");
  assert.is(server.parentSpanId, client.spanId, "the server span is a child of the caller's");
  assert.is.not(server.spanId, client.spanId);
  assert.is(server.name, `b.default.svc.cluster.local:${app.server.port}/*`);
  assert.is(client.name, "b.default.svc.cluster.local:8080/*");
  const seen = JSON.parse(r.body).headers;
  assert.is(seen.traceparent, `00-${client.traceId}-${server.spanId}-01`, "the app sees the server span as its parent");
  assert.is(seen["x-b3-parentspanid"], client.spanId);
});

test("the exporter's counts are counters on /stats/prometheus: exported, dropped, failed", async () => {
  await eventually(async () => ((await metricValue(b.admin, "dietmesh_otlp_spans_exported_total", {})) ?? 0) >= 1, 5000, "B's exported spans counted");
  assert.is(await metricValue(b.admin, "dietmesh_otlp_spans_dropped_total", {}), 0);
  assert.is(await metricValue(b.admin, "dietmesh_otlp_spans_failed_total", {}), 0);
  // C's collector answers 400: each batch is given up and counted
  const cConfig = await tempConfig({ "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]) });
  const c = await startSidecar(cConfig, ["--otlp-endpoint", `http://127.0.0.1:${sink.port}/reject`, "--trace-sampling", "100"]);
  assert.is((await curl(["-H", "Host: app:8080", `http://${c.outbound}/refused`])).status, 200);
  await eventually(async () => (await metricValue(c.admin, "dietmesh_otlp_export_failures_total", {})) === 1, 5000, "C's failed batch counted");
  assert.is(await metricValue(c.admin, "dietmesh_otlp_spans_failed_total", {}), 1);
  assert.is(await metricValue(c.admin, "dietmesh_otlp_spans_exported_total", {}), 0);
});

test("a Telemetry's randomSamplingPercentage sets a proxy's sampling (its flag says 0 %)", async () => {
  const dir = await tempConfig({
    "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]),
    "telemetry.yaml": "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: traced, namespace: default }\nspec:\n  selector: { matchLabels: { app: traced } }\n  tracing:\n  - providers: [{ name: otel-tracing }]\n    randomSamplingPercentage: 100\n",
  });
  const traced = await startSidecar(dir, ["--labels", "app=traced", "--otlp-endpoint", `http://127.0.0.1:${sink.port}`, "--trace-sampling", "0"]);
  assert.is((await curl(["-H", "Host: app:8080", `http://${traced.outbound}/sampled-by-telemetry`])).status, 200);
  await eventually(async () => spans.some((s) => s.kind === 3 && s.attributes.some((x) => x.key === "http.url" && x.value.stringValue === "/sampled-by-telemetry")), 5000, "the span of a request the Telemetry sampled");
});

test("a Telemetry's tracing on a proxy with no span exporter: said once in the log, no trace started", async () => {
  const dir = await tempConfig({
    "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]),
    "telemetry.yaml": "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: traced, namespace: default }\nspec:\n  selector: { matchLabels: { app: untraced } }\n  tracing:\n  - randomSamplingPercentage: 100\n",
  });
  const untraced = await startSidecar(dir, ["--labels", "app=untraced"]);
  const line = await eventually(async () => untraced.child.lines.find((l) => l.includes("no span exporter")), 5000, "the warning");
  assert.match(line, /Telemetry: tracing applies to this workload/);
  assert.is((await curl(["-H", "Host: app:8080", `http://${untraced.outbound}/not-traced`])).status, 200);
  assert.is(untraced.child.lines.filter((l) => l.includes("no span exporter")).length, 1);
});

test("a gateway exports its client spans and counts them too", async () => {
  const dir = await tempConfig({
    "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]),
    "gw.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [gw.example] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: gw, namespace: default }
spec:
  hosts: [gw.example]
  gateways: [gw]
  http: [{ route: [{ destination: { host: app.default.svc.cluster.local, port: { number: 8080 } } }] }]
`,
  });
  const gw = await startGateway(dir, ["--labels", "istio=ingressgateway", "--otlp-endpoint", `http://127.0.0.1:${sink.port}`, "--trace-sampling", "100"]);
  assert.is((await curl(["-H", "Host: gw.example", `http://${gw.port80}/through-gateway`])).status, 200);
  await eventually(async () => ((await metricValue(gw.admin, "dietmesh_otlp_spans_exported_total", {})) ?? 0) >= 1, 5000, "the gateway's exported spans counted");
  assert.ok(spans.some((s) => s.kind === 3 && s.attributes.some((x) => x.key === "http.url" && x.value.stringValue === "/through-gateway")), "its client span reached the sink");
});

test("B's access log names the app (upstream_host, upstream_cluster inbound|<port>||, route_name default) and has upstream_service_time", async () => {
  const r = await curl(["-H", "Host: b:8080", "-H", "x-request-id: inbound-log", `http://${a.outbound}/logged`]);
  assert.is(r.status, 200, r.body);
  const line = await eventually(async () => b.child.lines.find((l) => l.includes('"inbound-log"')), 5000, "B's access log line");
  const entry = JSON.parse(line);
  assert.is(entry.upstream_host, app.address);
  assert.is(entry.upstream_cluster, `inbound|${app.server.port}||`);
  assert.is(entry.route_name, "default");
  assert.match(entry.upstream_service_time, /^\d+$/, "whole ms, a string as Envoy's header value");
  assert.ok(Number(entry.upstream_service_time) <= entry.duration, JSON.stringify(entry));
});

test.run();
