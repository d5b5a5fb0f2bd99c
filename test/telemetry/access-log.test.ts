// Access log lines (Istio JSON, Istio TEXT, Envoy's default), "-"/null for what is missing, no
// way for a request value to break a line, and the batching writer on a fake clock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatEnvoyText, formatJson, formatText, type AccessLogEntry } from "../../runtime/telemetry/access-log.ts";
import { createAccessLogWriter } from "../../runtime/telemetry/access-log-writer.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const full: AccessLogEntry = {
  startTime: Date.UTC(2024, 4, 1, 12, 30, 15, 123),
  method: "GET",
  path: "/productpage?u=normal",
  protocol: "HTTP/1.1",
  responseCode: 200,
  responseFlags: "",
  responseCodeDetails: "via_upstream",
  bytesReceived: 0,
  bytesSent: 5183,
  durationMs: 27.9,
  upstreamServiceTime: 26.7,
  xForwardedFor: "10.0.0.1",
  userAgent: "curl/8.5.0",
  requestId: "8c1b4b2e-1d5f-4a4e-9a49-1d1b0a4b9c01",
  authority: "productpage:9080",
  upstreamHost: "10.1.2.3:9080",
  upstreamCluster: "outbound|9080||productpage.default.svc.cluster.local",
  upstreamLocalAddress: "10.1.0.5:41234",
  downstreamLocalAddress: "10.96.0.10:9080",
  downstreamRemoteAddress: "10.1.0.5:52100",
  requestedServerName: "outbound_.9080_._.productpage.default.svc.cluster.local",
  routeName: "default",
};
const bare: AccessLogEntry = { startTime: 0, method: "POST", path: "/", protocol: "HTTP/1.1", responseCode: 0, responseFlags: "", bytesReceived: 0, bytesSent: 0, durationMs: 0 };

test("JSON: Istio's keys, numbers as numbers, every field present", () => {
  const o = JSON.parse(formatJson(full));
  assert.equal(o, {
    authority: "productpage:9080", bytes_received: 0, bytes_sent: 5183, connection_termination_details: null,
    downstream_local_address: "10.96.0.10:9080", downstream_remote_address: "10.1.0.5:52100", duration: 27, grpc_status: null,
    method: "GET", path: "/productpage?u=normal", protocol: "HTTP/1.1", request_id: full.requestId,
    requested_server_name: full.requestedServerName, response_code: 200, response_code_details: "via_upstream",
    response_flags: "-", route_name: "default", start_time: "2024-05-01T12:30:15.123Z",
    upstream_cluster: full.upstreamCluster, upstream_host: "10.1.2.3:9080", upstream_local_address: "10.1.0.5:41234",
    upstream_service_time: "26", upstream_transport_failure_reason: null, user_agent: "curl/8.5.0", x_forwarded_for: "10.0.0.1",
  });
  assert.equal(Object.keys(o), Object.keys(o).slice().sort(), "keys in Envoy's (sorted) order");
});

test("JSON: missing values are null and flags '-'", () => {
  const o = JSON.parse(formatJson({ ...bare, responseFlags: "UH" }));
  assert.is(o.upstream_host, null);
  assert.is(o.x_forwarded_for, null);
  assert.is(o.response_flags, "UH");
  assert.is(JSON.parse(formatJson(bare)).response_flags, "-");
});

test("JSON: a gRPC call's status by Envoy's %GRPC_STATUS% names, a code past them as its number", () => {
  assert.is(JSON.parse(formatJson({ ...bare, protocol: "HTTP/2", responseCode: 200, grpcStatus: 0 })).grpc_status, "OK");
  assert.is(JSON.parse(formatJson({ ...bare, grpcStatus: 4 })).grpc_status, "DeadlineExceeded");
  assert.is(JSON.parse(formatJson({ ...bare, grpcStatus: 14 })).grpc_status, "Unavailable");
  assert.is(JSON.parse(formatJson({ ...bare, grpcStatus: 16 })).grpc_status, "Unauthenticated");
  assert.is(JSON.parse(formatJson({ ...bare, grpcStatus: 42 })).grpc_status, "42");
});

test("TEXT: Istio's default format, field by field", () => {
  assert.is(
    formatText(full),
    '[2024-05-01T12:30:15.123Z] "GET /productpage?u=normal HTTP/1.1" 200 - via_upstream - "-" 0 5183 27 26 "10.0.0.1" ' +
      '"curl/8.5.0" "8c1b4b2e-1d5f-4a4e-9a49-1d1b0a4b9c01" "productpage:9080" "10.1.2.3:9080" ' +
      "outbound|9080||productpage.default.svc.cluster.local 10.1.0.5:41234 10.96.0.10:9080 10.1.0.5:52100 " +
      "outbound_.9080_._.productpage.default.svc.cluster.local default",
  );
  assert.is(formatText(bare), '[1970-01-01T00:00:00.000Z] "POST / HTTP/1.1" 0 - - - "-" 0 0 0 - "-" "-" "-" "-" "-" - - - - - -');
});

test("ENVOY: Envoy's own default format string", () => {
  assert.is(
    formatEnvoyText({ ...full, responseFlags: "UT,URX" }),
    '[2024-05-01T12:30:15.123Z] "GET /productpage?u=normal HTTP/1.1" 200 UT,URX 0 5183 27 26 "10.0.0.1" "curl/8.5.0" ' +
      '"8c1b4b2e-1d5f-4a4e-9a49-1d1b0a4b9c01" "productpage:9080" "10.1.2.3:9080"',
  );
});

test("CR, LF, quotes and other controls in request values cannot break or forge a line", () => {
  const evil: AccessLogEntry = {
    ...full,
    path: '/x?a=1\r\n[2024-01-01T00:00:00.000Z] "GET /forged HTTP/1.1" 200',
    userAgent: 'ua" "injected\u0085\u2028\u0000\t\\',
    authority: "host\nnext",
    routeName: "r\u007f",
  };
  for (const format of [formatText, formatEnvoyText, formatJson]) {
    const line = format(evil);
    assert.not.ok(/[\r\n\u0085\u2028\u2029\u0000\u007f]/.test(line), `${format.name}: ${JSON.stringify(line)}`);
  }
  const text = formatText(evil);
  assert.ok(text.includes('"ua\\" \\"injected\\x85\\u2028\\x00\\t\\\\"'), text);
  const quoted = text.match(/"(?:[^"\\]|\\.)*"/g)!;
  assert.is(quoted.length, 7, "seven quoted fields, no extra quotes");
  assert.is(text.replace(/"(?:[^"\\]|\\.)*"/g, "").includes('"'), false, "no stray quote outside them");
  const o = JSON.parse(formatJson(evil));
  assert.is(o.user_agent, evil.userAgent, "JSON escapes round-trip");
  assert.is(o.path, evil.path);
});

test("writer: batches lines into one write on the timer, off the logging call", async () => {
  const clock = createFakeClock();
  const writes: string[] = [];
  const w = createAccessLogWriter({ write: (t) => void writes.push(t), format: (e) => e.method, clock, flushMs: 100 });
  w.log({ ...bare, method: "A" });
  w.log({ ...bare, method: "B" });
  assert.equal(writes, [], "log() never writes");
  await clock.advanceAsync(100);
  assert.equal(writes, ["A\nB\n"]);
  assert.equal(w.stats(), { written: 2, dropped: 0, queued: 0, failed: 0 });
});

test("writer: a full batch goes on the next microtask, in maxBatch pieces", async () => {
  const clock = createFakeClock();
  const writes: string[] = [];
  const w = createAccessLogWriter({ write: (t) => void writes.push(t), format: (e) => e.method, clock, maxBatch: 2, flushMs: 60_000 });
  for (const m of ["1", "2", "3", "4", "5"]) w.log({ ...bare, method: m });
  assert.equal(writes, []);
  await Promise.resolve();
  await w.flush();
  assert.equal(writes, ["1\n2\n", "3\n4\n", "5\n"]);
});

test("writer: a slow sink gets one write at a time; a full queue drops and counts", async () => {
  const clock = createFakeClock();
  const writes: string[] = [];
  let release!: () => void;
  const w = createAccessLogWriter({
    write: (t) => { writes.push(t); return new Promise<void>((r) => (release = r)); },
    format: (e) => e.method, clock, maxBatch: 100, maxQueued: 3,
  });
  w.log({ ...bare, method: "a" });
  await clock.advanceAsync(0);
  for (const m of ["b", "c", "d", "e", "f"]) w.log({ ...bare, method: m });
  assert.equal(writes, ["a\n"], "second batch waits for the first write");
  assert.is(w.stats().dropped, 2);
  release();
  await clock.advanceAsync(0);
  assert.equal(writes, ["a\n", "b\nc\nd\n"]);
  release();
  await w.flush();
  assert.equal(w.stats(), { written: 4, dropped: 2, queued: 0, failed: 0 });
});

test("writer: a failing sink or formatter is reported, never thrown at the caller", async () => {
  const clock = createFakeClock();
  const errors: unknown[] = [];
  const w = createAccessLogWriter({
    write: () => { throw new Error("disk full"); },
    format: (e) => { if (e.method === "BAD") throw new Error("format"); return e.method; },
    clock, onError: (e) => errors.push(e),
  });
  w.log({ ...bare, method: "BAD" });
  w.log({ ...bare, method: "OK" });
  await w.flush();
  assert.is(errors.length, 2);
  assert.equal(w.stats(), { written: 0, dropped: 0, queued: 0, failed: 2 });
});

test.run();
