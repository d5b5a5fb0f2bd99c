// The dashboard's numbers: readings taken from a real registry's exposition, rates and 5xx share
// from counter deltas, p99 from bucket deltas, version shares, which report draws an edge, breaker
// and ejection state, the sampling feed and its SSE stream on a fake clock, and the page itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRegistry } from "../../runtime/telemetry/metrics.ts";
import { createIstioMetrics, ENVOY_DEFAULT_BUCKETS, peerFromEndpoint, serviceInfo, type SeriesInput } from "../../runtime/telemetry/istio-metrics.ts";
import { readingFromExposition, selfNode, serviceNode, type ClusterReading, type EdgeReading, type Reading } from "../../runtime/telemetry/dashboard-reading.ts";
import { computeSnapshot, quantileFromBuckets, type Snapshot } from "../../runtime/telemetry/dashboard-snapshot.ts";
import { createDashboardFeed } from "../../runtime/telemetry/dashboard-feed.ts";
import { dashboardEvents } from "../../runtime/telemetry/dashboard-sse.ts";
import { DASHBOARD_HTML } from "../../runtime/telemetry/dashboard-page.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const gateway = selfNode("gateway", "istio-system", { istio: "ingressgateway" });
const hello = serviceNode("hello-istio", "default");
const spelling = serviceNode("spelling-service", "default");
const BOUNDS = [10, 100, 1000];

/** an edge with `requests` of which `errors` 5xx, durations spread as given per bucket */
function edge(to = hello, version = "v1", requests = 0, errors = 0, perBucket: number[] = [requests, 0, 0, 0], extra: Partial<EdgeReading> = {}): EdgeReading {
  let sum = 0;
  return { reporter: "source", from: gateway, to, version, security: "unknown", requests, errors, buckets: perBucket.map((n) => (sum += n)), ...extra };
}
function reading(at: number, edges: EdgeReading[], clusters: ClusterReading[] = [], origin = "local", self = gateway): Reading {
  return { origin, self, at, bounds: BOUNDS, edges, clusters };
}
const node = (s: Snapshot, id: string) => s.nodes.find((n) => n.id === id)!;
const close = (actual: number | null, expected: number, what: string) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

test("a reading sums a real exposition per source, service and version, buckets kept cumulative", () => {
  const registry = createRegistry();
  const metrics = createIstioMetrics(registry, {}); // a gateway: no app label, so source "unknown"
  const svc = serviceInfo({ hostname: "hello-istio.default.svc.cluster.local", namespace: "default" });
  const v1 = peerFromEndpoint({ labels: { app: "hello-istio", version: "v1" } });
  const v2 = peerFromEndpoint({ labels: { app: "hello-istio", version: "v2" } });
  const input = (peer: typeof v1, code: number, flags = ""): SeriesInput => ({ reporter: "source", peer, service: svc, code, flags, protocol: "http", security: "unknown" });
  for (let i = 0; i < 3; i++) metrics.seriesFor(input(v1, 200)).observe(3, 0, 10);
  metrics.seriesFor(input(v1, 503, "UO")).observe(0.2, 0, 10);
  metrics.seriesFor(input(v2, 200)).observe(700, 0, 10);
  const r = readingFromExposition(registry.expose(), {
    self: gateway, at: 5,
    clusters: [{ hostname: "hello-istio.default.svc.cluster.local", namespace: "default", subset: "v1", overflows: 1, active: 2, maxRequests: Infinity, connections: 1, maxConnections: 4, pending: 0, maxPending: Infinity, hosts: [{ address: "127.0.0.1:1", labels: { version: "v1" }, ejected: true }] }],
  });
  assert.equal(r.bounds, [...ENVOY_DEFAULT_BUCKETS]);
  assert.is(r.edges.length, 2);
  const [e1, e2] = [...r.edges].sort((a, b) => (a.version < b.version ? -1 : 1));
  assert.equal([e1.from.id, e1.to.id, e1.version, e1.requests, e1.errors], [gateway.id, "svc:hello-istio.default", "v1", 4, 1]);
  assert.is(e1.buckets.length, ENVOY_DEFAULT_BUCKETS.length + 1);
  assert.equal(e1.buckets.slice(0, 3), [1, 1, 4]); // 0.2 ms ≤ 0.5; 3 ms ≤ 5
  assert.is(e1.buckets[e1.buckets.length - 1], 4);
  assert.equal([e2.version, e2.requests, e2.buckets[8], e2.buckets[9]], ["v2", 1, 0, 1]); // 700 ms: in (500, 1000]
  assert.equal(r.clusters, [{ service: "svc:hello-istio.default", subset: "v1", overflows: 1, active: 2, maxRequests: null, connections: 1, maxConnections: 4, pending: 0, maxPending: null, hosts: [{ address: "127.0.0.1:1", version: "v1", ejected: true }] }]);
  assert.equal([gateway.name, gateway.kind], ["istio-ingressgateway", "gateway"]);
});

test("rates and 5xx share come from counter deltas over the samples' time apart", () => {
  const before = { readings: [reading(1000, [edge(hello, "v1", 100, 10)])] };
  const now = { readings: [reading(3000, [edge(hello, "v1", 140, 14)])] };
  const s = computeSnapshot(before, now, 3000);
  assert.is(s.windowSeconds, 2);
  const [e] = s.edges;
  assert.equal([e.requests, e.rps, e.errorRate], [140, 20, 0.1]);
  assert.equal([s.totals.requests, s.totals.rps], [140, 20]);
  // one sample: totals, but no rates yet
  const first = computeSnapshot(undefined, now, 3000);
  assert.equal([first.edges[0].requests, first.edges[0].rps, first.edges[0].errorRate, first.edges[0].p99], [140, 0, null, null]);
  // a proxy restarted: its counters start again from zero
  const restarted = computeSnapshot(now, { readings: [reading(4000, [edge(hello, "v1", 5, 0)])] }, 4000);
  assert.equal([restarted.edges[0].rps, restarted.edges[0].errorRate], [5, 0]);
});

test("p99 interpolates within the bucket and uses only the window's observations", () => {
  close(quantileFromBuckets(0.99, BOUNDS, [0, 100, 100, 100]), 99.1, "all in (10, 100]");
  close(quantileFromBuckets(0.5, BOUNDS, [50, 100, 100, 100]), 10, "median at the first bound");
  assert.is(quantileFromBuckets(0.99, BOUNDS, [0, 0, 0, 10]), 1000); // past the last bound: that bound
  assert.is(quantileFromBuckets(0.99, BOUNDS, [0, 0, 0, 0]), null);
  // 1000 slow requests before the window, 100 fast ones in it: p99 sees only the fast ones
  const before = { readings: [reading(0, [edge(hello, "v1", 1000, 0, [0, 0, 1000, 0])])] };
  const now = { readings: [reading(1000, [edge(hello, "v1", 1100, 0, [100, 0, 1000, 0])])] };
  close(computeSnapshot(before, now, 1000).edges[0].p99, 9.9, "window p99");
});

test("each version's share of a service's traffic, from the window or, idle, from the totals", () => {
  const before = { readings: [reading(0, [edge(hello, "v1", 10), edge(hello, "v2", 10)])] };
  const now = { readings: [reading(1000, [edge(hello, "v1", 40), edge(hello, "v2", 20)])] };
  const s = computeSnapshot(before, now, 1000);
  const versions = node(s, hello.id).versions;
  assert.equal(versions.map((v) => [v.version, v.rps, v.share]), [["v1", 30, 0.75], ["v2", 10, 0.25]]);
  assert.equal([node(s, hello.id).in.rps, node(s, gateway.id).outRps], [40, 40]);
  // one edge per (source, service), versions summed
  assert.equal(s.edges.map((e) => [e.from, e.to, e.rps]), [[gateway.id, hello.id, 40]]);
  const idle = computeSnapshot(now, { readings: [reading(2000, now.readings[0].edges)] }, 2000);
  assert.equal(node(idle, hello.id).versions.map((v) => [v.rps, v.share]), [[0, 40 / 60], [0, 20 / 60]]);
});

test("the client's report draws an edge; the server's only where no client reported, and it tells mTLS", () => {
  const unknownCaller = selfNode("sidecar", "default", {});
  const server = (to: typeof hello, requests: number, security: EdgeReading["security"]) =>
    edge(to, "v1", requests, 0, undefined, { reporter: "destination", from: serviceNode("unknown", "unknown"), security });
  const now = {
    readings: [
      reading(1000, [edge(hello, "v1", 10), edge(spelling, "v1", 5)]),
      // hello's sidecar saw the same 10 over mTLS; spelling's 5 plain; c-service's caller was never meshed
      reading(1000, [server(hello, 10, "mutual_tls")], [], "peer-1", hello),
      reading(1000, [server(spelling, 5, "none")], [], "peer-2", spelling),
      reading(1000, [server(serviceNode("c-service", "default"), 3, "mutual_tls")], [], "peer-3", unknownCaller),
    ],
  };
  const s = computeSnapshot(undefined, now, 1000);
  assert.equal(s.edges.map((e) => [e.from, e.to, e.reporter, e.mtls, e.requests]), [
    [gateway.id, hello.id, "source", "mutual_tls", 10],
    [gateway.id, spelling.id, "source", "none", 5],
    ["unknown", "svc:c-service.default", "destination", "mutual_tls", 3],
  ]);
  assert.is(s.totals.requests, 18);
  assert.equal([node(s, hello.id).mtls, node(s, spelling.id).mtls, node(s, gateway.id).mtls], ["mutual_tls", "none", "unknown"]);
  assert.is(node(s, "unknown").kind, "unknown");
  assert.equal(s.sources.map((x) => [x.origin, x.ok]), [["local", true], ["peer-1", true], ["peer-2", true], ["peer-3", true]]);
});

test("breaker overflows per second, pool saturation, and ejected hosts per version", () => {
  const cluster = (subset: string, overflows: number, hosts: ClusterReading["hosts"], extra: Partial<ClusterReading> = {}): ClusterReading => ({
    service: hello.id, subset, overflows, active: 0, maxRequests: null, connections: 0, maxConnections: null, pending: 0, maxPending: null, hosts, ...extra,
  });
  const h1 = { address: "10.0.0.1:80", version: "v1", ejected: false };
  const h2 = { address: "10.0.0.2:80", version: "v2", ejected: false };
  const before = { readings: [reading(0, [edge(hello, "v1", 1), edge(hello, "v2", 1)], [cluster("v1", 2, [h1]), cluster("v2", 0, [h2])])] };
  const now = {
    readings: [reading(2000, [edge(hello, "v1", 2), edge(hello, "v2", 2)], [
      cluster("v1", 12, [h1], { active: 3, maxRequests: 4 }),
      cluster("v2", 0, [{ ...h2, ejected: true }], { connections: 1, maxConnections: 2, pending: 1, maxPending: 10 }),
      cluster("", 0, [h1, { ...h2, ejected: true }]), // the subset-less cluster shares the hosts
    ])],
  };
  const s = computeSnapshot(before, now, 2000);
  const b = node(s, hello.id).breaker!;
  assert.equal([b.overflows, b.overflowRate, b.saturation, b.active, b.pending, b.connections, b.ejected, b.hosts], [12, 5, 0.75, 3, 1, 1, 1, 2]);
  assert.equal(node(s, hello.id).versions.map((v) => [v.version, v.ejected, v.hosts]), [["v1", 0, 1], ["v2", 1, 1]]);
  assert.is(node(s, gateway.id).breaker, null);
});

test("the feed samples once a second on the clock only while someone watches", async () => {
  const clock = createFakeClock(0);
  let count = 0;
  let peerUp = true;
  const feed = createDashboardFeed({
    clock,
    local: () => reading(clock.now(), [edge(hello, "v1", count)]),
    peers: [{ origin: "peer-1", read: async () => (peerUp ? reading(clock.now(), [edge(spelling, "v1", count)], [], "peer-1", hello) : Promise.reject(new Error("refused"))) }],
  });
  const seen: Snapshot[] = [];
  const stop = feed.subscribe((s) => seen.push(s));
  await clock.advanceAsync(0);
  assert.is(seen.length, 1);
  count = 10;
  await clock.advanceAsync(1000);
  assert.is(seen.length, 2);
  assert.equal(seen[1].edges.map((e) => [e.to, e.rps]), [[hello.id, 10], [spelling.id, 10]]);
  count = 30;
  peerUp = false;
  await clock.advanceAsync(1000);
  const last = seen[2];
  assert.equal(last.sources.map((x) => [x.origin, x.ok, x.error]), [["local", true, undefined], ["peer-1", false, "refused"]]);
  // 30 over 2 s locally; the peer's last good reading stands in (its 10, and the rate between its
  // own readings), until the window has moved past it
  assert.equal(last.edges.map((e) => [e.to, e.requests, e.rps]), [[hello.id, 30, 15], [spelling.id, 10, 10]]);
  assert.is(feed.watching, 1);
  stop();
  assert.equal([feed.watching, clock.pending()], [0, 0]);
  await clock.advanceAsync(5000);
  assert.is(seen.length, 3);
  // asked without a subscriber, it samples on demand
  count = 40;
  const s = await feed.snapshot();
  assert.is(s.edges.find((e) => e.to === hello.id)!.requests, 40);
});

test("/dashboard/events streams one JSON snapshot per sample and unsubscribes when cancelled", async () => {
  const clock = createFakeClock(0);
  let count = 0;
  const feed = createDashboardFeed({ clock, local: () => reading(clock.now(), [edge(hello, "v1", (count += 5))]) });
  const res = dashboardEvents(feed);
  assert.is(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const frames = () => text.split("\n\n").filter((f) => f.startsWith("data: ")).map((f) => JSON.parse(f.slice(6)) as Snapshot);
  const readUntil = async (n: number) => {
    while (frames().length < n) text += decoder.decode((await reader.read()).value);
  };
  await clock.advanceAsync(0);
  await readUntil(1);
  await clock.advanceAsync(1000);
  await readUntil(2);
  assert.ok(text.startsWith("retry: 2000\n\n"));
  assert.equal(frames().map((f) => [f.totals.requests, f.totals.rps]), [[5, 0], [10, 5]]);
  await reader.cancel();
  assert.equal([feed.watching, clock.pending()], [0, 0]);
});

test("the page is self-contained and its script parses", () => {
  const script = /<script>([\s\S]*)<\/script>/.exec(DASHBOARD_HTML)![1];
  new Function(script); // throws on a syntax error
  assert.not.match(DASHBOARD_HTML, /\$\{/);
  // nothing fetched from elsewhere: the only absolute URL is the SVG namespace
  const urls = DASHBOARD_HTML.match(/https?:\/\/[^\s"')]+/g) ?? [];
  assert.equal([...new Set(urls)], ["http://www.w3.org/2000/svg"]);
  for (const path of ["dashboard/events", "dashboard/snapshot.json"]) assert.ok(DASHBOARD_HTML.includes(`"${path}"`), path);
});

test.run();
