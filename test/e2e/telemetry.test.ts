// End to end: a real sidecar's Istio metrics on /stats/prometheus, its JSON access log with
// response flags, and trace-context propagation to the upstream.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { platform } from "../../runtime/platform/index.ts";
import { cli, curl, eventually, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const echo = startEcho("ratings");
let sidecar: Sidecar;
/** a small OTLP/HTTP receiver: keeps every body POSTed to /v1/traces */
const traces: string[] = [];
const received: { gzip: boolean; apiKey: string | null; text: string }[] = [];
const receiver = platform.serve({
  hostname: "127.0.0.1",
  port: 0,
  async handler(request) {
    if (request.method === "POST" && new URL(request.url).pathname === "/v1/traces") {
      const gzip = request.headers.get("content-encoding") === "gzip";
      const text = gzip ? await new Response(request.body!.pipeThrough(new DecompressionStream("gzip"))).text() : await request.text();
      traces.push(text);
      received.push({ gzip, apiKey: request.headers.get("api-key"), text });
    }
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
});

test.before(async () => {
  const dir = await tempConfig({ "se.yaml": serviceEntry("ratings", "ratings.default.svc.cluster.local", [{ address: echo.address, labels: { app: "ratings", version: "v1" } }]) });
  sidecar = await startSidecar(dir, ["--access-log", "json", "--labels", "app=productpage,version=v1", "--otlp-endpoint", `http://127.0.0.1:${receiver.port}`, "--trace-sampling", "0"]);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await receiver.stop(true);
});

test("istio_requests_total counts requests with Istio's labels", async () => {
  for (let i = 0; i < 3; i++) assert.is((await curl(["-H", "Host: ratings:8080", `http://${sidecar.outbound}/r`])).status, 200);
  assert.is((await curl(["-H", "Host: nowhere:8080", `http://${sidecar.outbound}/`])).status, 404);
  const text = (await curl([`http://${sidecar.admin}/stats/prometheus`])).body;
  const ok = text.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="200"'));
  assert.ok(ok, text.slice(0, 2000));
  assert.match(ok!, /reporter="source"/);
  assert.match(ok!, /source_app="productpage"/);
  assert.match(ok!, /destination_service="ratings.default.svc.cluster.local"/);
  assert.match(ok!, /destination_version="v1"/);
  assert.match(ok!, / 3$/);
  const nr = text.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="404"'));
  assert.match(nr!, /response_flags="NR"/);
  assert.match(nr!, /destination_service="unknown"/);
  assert.match(text, /# TYPE istio_request_duration_milliseconds histogram/);
  assert.match(text, /dietmesh_cluster_requests_total\{cluster="outbound\|8080\|\|ratings.default.svc.cluster.local"\} 3/);
});

test("the JSON access log has Envoy's fields and the response flags", async () => {
  await curl(["-H", "Host: nowhere:8080", "-H", "x-request-id: log-me", `http://${sidecar.outbound}/missing?x=1`]);
  const line = await eventually(async () => sidecar.child.lines.find((l) => l.includes('"log-me"')), 5000, "access log line");
  const entry = JSON.parse(line);
  assert.is(entry.method, "GET");
  assert.is(entry.path, "/missing?x=1");
  assert.is(entry.response_code, 404);
  assert.is(entry.response_flags, "NR");
  assert.is(entry.authority, "nowhere:8080");
  const ok = await eventually(async () => sidecar.child.lines.find((l) => l.includes('"upstream_host"') && l.includes(echo.address)), 5000, "upstream line");
  assert.is(JSON.parse(ok).upstream_cluster, "outbound|8080||ratings.default.svc.cluster.local");
});

test("traceparent: same trace, a new span whose parent is the caller's", async () => {
  const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const r = await curl(["-H", "Host: ratings:8080", "-H", `traceparent: ${incoming}`, `http://${sidecar.outbound}/t`]);
  const seen = JSON.parse(r.body).headers;
  const [version, trace, span, flags] = seen.traceparent.split("-");
  assert.is(version, "00");
  assert.is(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.is.not(span, "00f067aa0ba902b7");
  assert.is(flags, "01");
  assert.is(seen["x-b3-traceid"], trace);
  assert.is(seen["x-b3-parentspanid"], "00f067aa0ba902b7");
  assert.match(seen["x-request-id"], /^[0-9a-f-]{36}$/);
});

test("sampled spans are exported as OTLP/HTTP JSON; unsampled ones are not", async () => {
  const sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const unsampled = "00-11111111111111111111111111111111-2222222222222222-00";
  await curl(["-H", "Host: ratings:8080", "-H", `traceparent: ${unsampled}`, `http://${sidecar.outbound}/u`]);
  await curl(["-H", "Host: ratings:8080", "-H", `traceparent: ${sampled}`, `http://${sidecar.outbound}/s`]);
  const body = await eventually(async () => traces.find((t) => t.includes("0af7651916cd43dd8448eb211c80319c")), 5000, "exported span");
  const span = JSON.parse(body).resourceSpans[0].scopeSpans[0].spans.find((s: { traceId: string }) => s.traceId === "0af7651916cd43dd8448eb211c80319c");
  assert.is(span.parentSpanId, "b7ad6b7169203331");
  assert.is(span.kind, 3, "SPAN_KIND_CLIENT");
  assert.is(span.name, "ratings.default.svc.cluster.local:8080/*");
  assert.ok(!traces.some((t) => t.includes("11111111111111111111111111111111")), "the unsampled trace was not exported");
});

test("no span exporter: no trace started, trace headers passed on as they came (Envoy with no tracer)", async () => {
  const dir = await tempConfig({ "se.yaml": serviceEntry("ratings", "ratings.default.svc.cluster.local", [{ address: echo.address, labels: { app: "ratings", version: "v1" } }]) });
  const plain = await startSidecar(dir, ["--labels", "app=productpage"]);
  const bare = JSON.parse((await curl(["-H", "Host: ratings:8080", `http://${plain.outbound}/bare`])).body).headers;
  assert.ok(bare["x-request-id"], "a request id, as Envoy always adds");
  for (const name of ["traceparent", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]) assert.is(bare[name], undefined, name);
  const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const seen = JSON.parse((await curl(["-H", "Host: ratings:8080", "-H", `traceparent: ${incoming}`, "-H", "x-b3-spanid: 00f067aa0ba902b7", `http://${plain.outbound}/as-came`])).body).headers;
  assert.is(seen.traceparent, incoming, "the caller's span, not a new one");
  assert.is(seen["x-b3-spanid"], "00f067aa0ba902b7");
  assert.is(seen["x-b3-parentspanid"], undefined);
});

test("OpenTelemetry's environment variables alone: endpoint, headers, gzip and the service name", async () => {
  const dir = await tempConfig({ "se.yaml": serviceEntry("ratings", "ratings.default.svc.cluster.local", [{ address: echo.address, labels: { app: "ratings", version: "v1" } }]) });
  const child = runScript(cli, ["sidecar", "--config", dir, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--trace-sampling", "0"], {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`, OTEL_EXPORTER_OTLP_HEADERS: "api-key=k%201", OTEL_EXPORTER_OTLP_COMPRESSION: "gzip", OTEL_SERVICE_NAME: "checkout" },
  });
  try {
    const [, outbound] = await child.waitFor(/outbound (\S+?),/);
    await curl(["-H", "Host: ratings:8080", "-H", "traceparent: 00-33333333333333333333333333333333-4444444444444444-01", `http://${outbound}/otel`]);
    const got = await eventually(async () => received.find((r) => r.text.includes("33333333333333333333333333333333")), 5000, "the span sent by the env-configured sidecar");
    assert.ok(got.gzip, "gzip, as OTEL_EXPORTER_OTLP_COMPRESSION says");
    assert.is(got.apiKey, "k 1", "OTEL_EXPORTER_OTLP_HEADERS, URL-decoded");
    const resource = JSON.parse(got.text).resourceSpans[0].resource.attributes;
    assert.ok(resource.some((a: { key: string; value: { stringValue?: string } }) => a.key === "service.name" && a.value.stringValue === "checkout"), JSON.stringify(resource));
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
});

test.run();
