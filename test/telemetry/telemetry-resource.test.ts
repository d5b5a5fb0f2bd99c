// Istio Telemetry resources → which access loggers a workload runs: root, namespace and selector
// levels with the most specific winning, match.mode, disabled, and what is reported. The specs are
// validated at load (test/config/telemetry-load.test.ts); these are valid ones.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTelemetryAccessLogging, type ResourceLike } from "../../runtime/telemetry/telemetry-resource.ts";

function telemetry(namespace: string, name: string, spec: unknown, creationTimestamp?: string): ResourceLike {
  return { apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace, creationTimestamp }, spec };
}
const envoy = { providers: [{ name: "envoy" }] };
const names = (list: readonly { name: string }[]) => list.map((p) => p.name);
/** the access-log part of a decision */
const logs = (d: { client: unknown; server: unknown }) => ({ client: d.client, server: d.server });
const reviews = { namespace: "default", labels: { app: "reviews", version: "v1" } };
const ratings = { namespace: "default", labels: { app: "ratings" } };

test("no Telemetry resources: the default providers (none unless given)", () => {
  assert.equal(logs(parseTelemetryAccessLogging([]).forWorkload(reviews)), { client: [], server: [] });
  const d = parseTelemetryAccessLogging([], { defaultProviders: ["envoy"] }).forWorkload(reviews);
  assert.equal(names(d.client), ["envoy"]);
  assert.equal(names(d.server), ["envoy"]);
});

test("mesh-wide in the root namespace turns logging on for every workload", () => {
  const t = parseTelemetryAccessLogging([telemetry("istio-system", "mesh-default", { accessLogging: [envoy] })]);
  assert.equal(names(t.forWorkload(reviews).server), ["envoy"]);
  assert.equal(names(t.forWorkload({ namespace: "other", labels: {} }).client), ["envoy"]);
  assert.equal(t.issues, []);
});

test("namespace-wide overrides mesh-wide; a selector overrides the namespace", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("istio-system", "mesh-default", { accessLogging: [envoy] }),
    telemetry("default", "ns-off", { accessLogging: [{ disabled: true }] }),
    telemetry("default", "reviews-on", { selector: { matchLabels: { app: "reviews" } }, accessLogging: [envoy] }),
  ]);
  assert.equal(names(t.forWorkload(reviews).server), ["envoy"], "selector turns it back on");
  assert.equal(logs(t.forWorkload(ratings)), { client: [], server: [] }, "namespace turned it off");
  assert.equal(names(t.forWorkload({ namespace: "shop", labels: { app: "reviews" } }).client), ["envoy"], "other namespaces keep the mesh default");
});

test("a root-namespace selector applies only to workloads in the root namespace", () => {
  const t = parseTelemetryAccessLogging([telemetry("istio-system", "gw", { selector: { matchLabels: { app: "reviews" } }, accessLogging: [envoy] })]);
  assert.equal(t.forWorkload(reviews).server, []);
  assert.equal(names(t.forWorkload({ namespace: "istio-system", labels: { app: "reviews" } }).server), ["envoy"]);
});

test("match.mode limits a rule to client or server traffic", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("istio-system", "mesh", { accessLogging: [envoy] }),
    telemetry("default", "server-only", { accessLogging: [{ ...envoy, match: { mode: "CLIENT" }, disabled: true }] }),
  ]);
  const d = t.forWorkload(reviews);
  assert.equal(d.client, []);
  assert.equal(names(d.server), ["envoy"]);
});

test("providers are merged by name; the most specific level picks which are in scope", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("istio-system", "mesh", { accessLogging: [{ providers: [{ name: "envoy" }, { name: "other" }] }] }),
    telemetry("default", "ns", { accessLogging: [{ providers: [{ name: "other" }] }] }),
  ]);
  assert.equal(t.forWorkload(reviews).server, [{ name: "other" }]);
  assert.equal(t.forWorkload({ namespace: "x", labels: {} }).server, [{ name: "envoy" }, { name: "other" }]);
});

test("the --access-log flag is the default provider: disabled: true turns it off for the workloads a Telemetry covers", () => {
  const off = telemetry("default", "quiet", { selector: { matchLabels: { app: "ratings" } }, accessLogging: [{ disabled: true }] });
  const t = parseTelemetryAccessLogging([off], { defaultProviders: ["envoy"] });
  assert.equal(logs(t.forWorkload(ratings)), { client: [], server: [] });
  assert.equal(names(t.forWorkload(reviews).server), ["envoy"], "others keep the flag's log");
});

test("a namespace-wide Telemetry without access logging still is its namespace's one (Istio's oldest wins) and leaves the wider level alone", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("istio-system", "mesh", { accessLogging: [envoy] }),
    telemetry("default", "metrics-only", { metrics: [{ providers: [{ name: "prometheus" }] }] }, "2024-01-01T00:00:00Z"),
    telemetry("default", "newer-off", { accessLogging: [{ disabled: true }] }, "2024-02-01T00:00:00Z"),
  ]);
  assert.equal(names(t.forWorkload(reviews).server), ["envoy"], "the mesh level applies; the newer namespace-wide one does not");
  assert.ok(t.issues.some((i) => i.includes("default/newer-off") && i.includes("ignored")), t.issues.join("\n"));
});

test("two namespace-wide resources: the older wins and the other is reported", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("default", "newer", { accessLogging: [envoy] }, "2024-02-01T00:00:00Z"),
    telemetry("default", "older", { accessLogging: [{ ...envoy, disabled: true }] }, "2024-01-01T00:00:00Z"),
  ]);
  assert.equal(t.forWorkload(reviews).server, []);
  assert.ok(t.issues.some((i) => i.includes("default/newer") && i.includes("ignored")), t.issues.join("\n"));
});

test("other kinds are ignored", () => {
  const t = parseTelemetryAccessLogging([{ apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "s", namespace: "default" }, spec: { accessLogging: [envoy] } }]);
  assert.equal(logs(t.forWorkload(reviews)), { client: [], server: [] });
  assert.equal(t.issues, []);
});

test("v1alpha1 resources are read the same way", () => {
  const r = { ...telemetry("istio-system", "mesh", { accessLogging: [envoy] }), apiVersion: "telemetry.istio.io/v1alpha1" };
  assert.equal(names(parseTelemetryAccessLogging([r]).forWorkload(reviews).client), ["envoy"]);
});

test("tracing: a more specific level overrides what it sets, per side; nothing set leaves the flag's rate and reporting on", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("istio-system", "mesh", { tracing: [{ randomSamplingPercentage: 10 }] }),
    telemetry("default", "ns", { tracing: [{ disableSpanReporting: true, match: { mode: "SERVER" } }] }),
    telemetry("default", "reviews", { selector: { matchLabels: { app: "reviews" } }, tracing: [{ randomSamplingPercentage: 100, match: { mode: "CLIENT" } }] }),
  ]);
  assert.equal(t.forWorkload(reviews).tracing, { client: { samplingPercent: 100, reportSpans: true, traced: true }, server: { samplingPercent: 10, reportSpans: false, traced: true } });
  assert.equal(t.forWorkload(ratings).tracing, { client: { samplingPercent: 10, reportSpans: true, traced: true }, server: { samplingPercent: 10, reportSpans: false, traced: true } });
  assert.equal(t.forWorkload({ namespace: "shop", labels: {} }).tracing.server, { samplingPercent: 10, reportSpans: true, traced: true });
  assert.equal(parseTelemetryAccessLogging([]).forWorkload(reviews).tracing.client, { samplingPercent: undefined, reportSpans: true, traced: false });
});

test.run();
