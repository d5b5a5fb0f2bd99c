// Istio Telemetry resources → which access loggers a workload runs: root, namespace and selector
// levels with the most specific winning, match.mode, disabled, filters, and what is reported.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTelemetryAccessLogging, type ResourceLike } from "../../runtime/telemetry/telemetry-resource.ts";

function telemetry(namespace: string, name: string, spec: unknown, creationTimestamp?: string): ResourceLike {
  return { apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace, creationTimestamp }, spec };
}
const envoy = { providers: [{ name: "envoy" }] };
const names = (list: readonly { name: string }[]) => list.map((p) => p.name);
const reviews = { namespace: "default", labels: { app: "reviews", version: "v1" } };
const ratings = { namespace: "default", labels: { app: "ratings" } };

test("no Telemetry resources: the default providers (none unless given)", () => {
  assert.equal(parseTelemetryAccessLogging([]).forWorkload(reviews), { client: [], server: [] });
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
  assert.equal(t.forWorkload(ratings), { client: [], server: [] }, "namespace turned it off");
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
    telemetry("istio-system", "mesh", { accessLogging: [{ providers: [{ name: "envoy" }, { name: "otel" }] }] }),
    telemetry("default", "ns", { accessLogging: [{ providers: [{ name: "otel" }], filter: { expression: "response.code >= 400" } }] }),
  ]);
  assert.equal(t.forWorkload(reviews).server, [{ name: "otel", filter: "response.code >= 400" }]);
  assert.equal(t.forWorkload({ namespace: "x", labels: {} }).server, [{ name: "envoy" }, { name: "otel" }]);
});

test("two namespace-wide resources: the older wins and the other is reported", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("default", "newer", { accessLogging: [envoy] }, "2024-02-01T00:00:00Z"),
    telemetry("default", "older", { accessLogging: [{ ...envoy, disabled: true }] }, "2024-01-01T00:00:00Z"),
  ]);
  assert.equal(t.forWorkload(reviews).server, []);
  assert.ok(t.issues.some((i) => i.includes("default/newer") && i.includes("ignored")), t.issues.join("\n"));
});

test("unsupported or malformed parts are reported, other kinds ignored", () => {
  const t = parseTelemetryAccessLogging([
    telemetry("default", "target", { targetRefs: [{ kind: "Service", name: "x" }], accessLogging: [envoy] }),
    telemetry("default", "badmode", { accessLogging: [{ ...envoy, match: { mode: "SIDEWAYS" } }] }),
    telemetry("default", "metrics", { metrics: [{ providers: [{ name: "prometheus" }] }] }),
    { apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "s", namespace: "default" }, spec: {} },
  ]);
  assert.equal(t.forWorkload(reviews), { client: [], server: [] });
  assert.is(t.issues.length, 3, t.issues.join("\n"));
  assert.ok(t.issues.some((i) => i.includes("targetRef")));
  assert.ok(t.issues.some((i) => i.includes("match.mode")));
  assert.ok(t.issues.some((i) => i.includes("spec.metrics")));
});

test("v1alpha1 resources are read the same way", () => {
  const r = { ...telemetry("istio-system", "mesh", { accessLogging: [envoy] }), apiVersion: "telemetry.istio.io/v1alpha1" };
  assert.equal(names(parseTelemetryAccessLogging([r]).forWorkload(reviews).client), ["envoy"]);
});

test.run();
