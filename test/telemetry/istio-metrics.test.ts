// Istio's standard metrics: label names, order and "unknown" defaults as Istio's stats filter
// emits them, series caching per (target × code × flags), the cap, and dietmesh's own metrics.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRegistry } from "../../runtime/telemetry/metrics.ts";
import {
  createIstioMetrics, ENVOY_DEFAULT_BUCKETS, ISTIO_LABELS, peerFromEndpoint, serviceInfo, UNKNOWN_PEER, type SeriesInput,
} from "../../runtime/telemetry/istio-metrics.ts";
import { createDietmeshMetrics, type ClusterStatsView } from "../../runtime/telemetry/dietmesh-metrics.ts";
import { find, parseExposition } from "./prom-parse.ts";

const proxy = { workload: "productpage-v1", namespace: "default", app: "productpage", version: "v1", principal: "spiffe://cluster.local/ns/default/sa/bookinfo-productpage", cluster: "Kubernetes" };
const reviews = serviceInfo({ hostname: "reviews.default.svc.cluster.local", namespace: "default" });
const reviewsV2 = peerFromEndpoint({ labels: { app: "reviews", version: "v2" }, identity: "spiffe://cluster.local/ns/default/sa/bookinfo-reviews" });
const outbound = (extra: Partial<SeriesInput> = {}): SeriesInput => ({
  reporter: "source", peer: reviewsV2, service: reviews, code: 200, flags: "", protocol: "http", security: "unknown", ...extra,
});

test("a source-reported request carries every Istio label, in Istio's order", () => {
  const r = createRegistry();
  const m = createIstioMetrics(r, proxy);
  m.seriesFor(outbound()).observe(12, 300, 4000);
  const text = r.expose();
  const p = parseExposition(text);
  const [s] = find(p, "istio_requests_total");
  assert.equal(Object.keys(s.labels), [...ISTIO_LABELS]);
  assert.equal(s.labels, {
    reporter: "source",
    source_workload: "productpage-v1", source_canonical_service: "productpage", source_canonical_revision: "v1",
    source_workload_namespace: "default", source_principal: proxy.principal, source_app: "productpage", source_version: "v1",
    source_cluster: "Kubernetes",
    destination_workload: "unknown", destination_workload_namespace: "default",
    destination_principal: "spiffe://cluster.local/ns/default/sa/bookinfo-reviews", destination_app: "reviews",
    destination_version: "v2", destination_service: "reviews.default.svc.cluster.local",
    destination_canonical_service: "reviews", destination_canonical_revision: "v2",
    destination_service_name: "reviews", destination_service_namespace: "default", destination_cluster: "unknown",
    request_protocol: "http", response_code: "200", grpc_response_status: "", response_flags: "-",
    connection_security_policy: "unknown",
  });
  assert.is(s.value, 1);
  assert.is(find(p, "istio_request_duration_milliseconds_sum")[0].value, 12);
  assert.is(find(p, "istio_request_bytes_sum")[0].value, 300);
  assert.is(find(p, "istio_response_bytes_sum")[0].value, 4000);
  const les = find(p, "istio_response_bytes_bucket").map((b) => b.labels.le);
  assert.equal(les, [...ENVOY_DEFAULT_BUCKETS.map(String), "+Inf"]);
  assert.not.ok(/path|url/.test(text), "paths are never labels");
});

test("destination reporter swaps the sides; an unknown peer is all 'unknown'", () => {
  const r = createRegistry();
  const m = createIstioMetrics(r, proxy);
  const self = serviceInfo({ hostname: "productpage.default.svc.cluster.local", namespace: "default" });
  m.seriesFor({ reporter: "destination", peer: UNKNOWN_PEER, service: self, code: 503, flags: "UO", protocol: "grpc", grpcStatus: 14, security: "none" }).observe(1, 0, 0);
  const [s] = find(parseExposition(r.expose()), "istio_requests_total");
  assert.is(s.labels.reporter, "destination");
  assert.is(s.labels.source_workload, "unknown");
  assert.is(s.labels.source_canonical_revision, "latest");
  assert.is(s.labels.source_principal, "unknown");
  assert.is(s.labels.destination_workload, "productpage-v1");
  assert.is(s.labels.destination_principal, "unknown", "served in plaintext: not under this workload's certificate (Istio reads the connection's local certificate)");
  assert.is(s.labels.destination_service_name, "productpage");
  assert.is(s.labels.request_protocol, "grpc");
  assert.is(s.labels.grpc_response_status, "14");
  assert.is(s.labels.response_flags, "UO");
  assert.is(s.labels.connection_security_policy, "none");
});

test("destination reporter over mTLS: destination_principal is this workload's own", () => {
  const r = createRegistry();
  const m = createIstioMetrics(r, proxy);
  const self = serviceInfo({ hostname: "productpage.default.svc.cluster.local", namespace: "default" });
  m.seriesFor({ reporter: "destination", peer: UNKNOWN_PEER, service: self, code: 200, flags: "", protocol: "http", security: "mutual_tls" }).observe(1, 0, 0);
  const [s] = find(parseExposition(r.expose()), "istio_requests_total");
  assert.is(s.labels.destination_principal, proxy.principal);
  assert.is(s.labels.connection_security_policy, "mutual_tls");
});

test("series are cached: same target, code and flags give the same object", () => {
  const r = createRegistry();
  const m = createIstioMetrics(r, proxy);
  const a = m.seriesFor(outbound());
  assert.is(m.seriesFor(outbound()), a);
  assert.is.not(m.seriesFor(outbound({ code: 503 })), a);
  assert.is.not(m.seriesFor(outbound({ flags: "URX" })), a);
  assert.is.not(m.seriesFor(outbound({ security: "mutual_tls" })), a);
  // equal content through fresh objects resolves to the same underlying series
  const fresh = m.seriesFor(outbound({ peer: { ...reviewsV2 }, service: { ...reviews } }));
  fresh.observe(1, 1, 1);
  a.observe(1, 1, 1);
  assert.is(find(parseExposition(r.expose()), "istio_requests_total", { response_code: "200", response_flags: "-", connection_security_policy: "unknown" })[0].value, 2);
  assert.is(r.seriesCount, 4 * 4);
});

test("cardinality: a flood of distinct peers stops at the cap and is counted", () => {
  const r = createRegistry({ maxSeries: 40 });
  const m = createIstioMetrics(r, proxy);
  for (let i = 0; i < 100; i++) m.seriesFor(outbound({ peer: { app: `app-${i}` } })).observe(1, 1, 1);
  const p = parseExposition(r.expose());
  assert.is(r.seriesCount, 40);
  assert.is(find(p, "istio_requests_total").length, 10);
  assert.is(find(p, "dietmesh_metrics_dropped_total")[0].value, 90 * 4);
});

test("peer info comes from endpoint labels once per endpoint object", () => {
  const ep = { labels: { "app.kubernetes.io/name": "ratings", "app.kubernetes.io/version": "v1" }, identity: "spiffe://cluster.local/ns/shop/sa/ratings" };
  const peer = peerFromEndpoint(ep);
  assert.is(peerFromEndpoint(ep), peer);
  assert.is(peer.app, "ratings");
  assert.is(peer.version, "v1");
  assert.is(peer.namespace, "shop", "namespace from the SPIFFE ID when the endpoint has none");
});

test("dietmesh metrics: cluster state read at scrape, reloads, certificates, registry sync", () => {
  const r = createRegistry();
  const counters = { requests: 10, overflows: 1, retries: 3, retryOverflows: 0 };
  const cluster: ClusterStatsView = {
    name: "outbound|9080||reviews.default.svc.cluster.local",
    breaker: { activeRequests: 2 },
    counters,
    outlier: { snapshot: () => [{ ejected: true, ejectionCount: 2 }, { ejected: false, ejectionCount: 1 }] },
  };
  const d = createDietmeshMetrics(r, () => [cluster]);
  d.configReload("accepted", 1_000);
  d.configReload("rejected", 2_000);
  d.configReload("rejected", 3_000);
  d.certificateExpiry("workload", 1_700_000_000_000);
  d.registrySync("kubernetes", true, 5_000);
  d.registrySync("kubernetes", false, 6_000);
  counters.overflows = 4; // read at scrape, not copied at registration
  const p = parseExposition(r.expose());
  const c = { cluster: cluster.name };
  assert.is(find(p, "dietmesh_cluster_overflows_total", c)[0].value, 4);
  assert.is(find(p, "dietmesh_cluster_retries_total", c)[0].value, 3);
  assert.is(find(p, "dietmesh_cluster_active_requests", c)[0].value, 2);
  assert.is(find(p, "dietmesh_cluster_ejections_total", c)[0].value, 3);
  assert.is(find(p, "dietmesh_cluster_ejected_hosts", c)[0].value, 1);
  assert.is(find(p, "dietmesh_config_reloads_total", { result: "rejected" })[0].value, 2);
  assert.is(find(p, "dietmesh_config_last_reload_timestamp_seconds", { result: "rejected" })[0].value, 3);
  assert.is(find(p, "dietmesh_certificate_expiry_timestamp_seconds", { name: "workload" })[0].value, 1_700_000_000);
  assert.is(find(p, "dietmesh_registry_synced", { registry: "kubernetes" })[0].value, 0);
  assert.is(find(p, "dietmesh_registry_last_sync_timestamp_seconds", { registry: "kubernetes" })[0].value, 5);
  d.certificateGone("workload");
  assert.is(find(parseExposition(r.expose()), "dietmesh_certificate_expiry_timestamp_seconds").length, 0);
});

test("dietmesh: requests refused over the head limits, by codec; both series there at 0 before the first", () => {
  const r = createRegistry();
  const d = createDietmeshMetrics(r, () => []);
  const overflows = () => Object.fromEntries(find(parseExposition(r.expose()), "dietmesh_request_header_overflows_total").map((s) => [s.labels.codec, s.value]));
  assert.equal(overflows(), { http1: 0, http2: 0 });
  d.requestHeaderOverflow("http2");
  d.requestHeaderOverflow("http2");
  d.requestHeaderOverflow("http1");
  assert.equal(overflows(), { http1: 1, http2: 2 });
});

test("dietmesh: certificate sources are read at each scrape; a name listed twice shows its earliest notAfter", () => {
  const r = createRegistry();
  const d = createDietmeshMetrics(r, () => []);
  let served: [string, number][] = [["shop-credential", 1_800_000_000_000], ["/etc/certs/a.crt", 1_900_000_000_000]];
  d.certificateSource(() => served);
  d.certificateSource(() => [["shop-credential", 1_750_000_000_000]]);
  d.certificateExpiry("workload", 1_700_000_000_000);
  const expiry = () => Object.fromEntries(find(parseExposition(r.expose()), "dietmesh_certificate_expiry_timestamp_seconds").map((s) => [s.labels.name, s.value]));
  assert.equal(expiry(), { workload: 1_700_000_000, "shop-credential": 1_750_000_000, "/etc/certs/a.crt": 1_900_000_000 });
  served = [["/etc/certs/a.crt", 1_950_000_000_000]]; // renewed; the other port's credential still served by the second source
  assert.equal(expiry(), { workload: 1_700_000_000, "shop-credential": 1_750_000_000, "/etc/certs/a.crt": 1_950_000_000 });
});

test.run();
