// The destination side's service for the metrics (telemetry/local-service.ts): the registry's
// services this workload backs, by endpoint labels in its namespace or by the inbound address;
// several are told apart by Host; a new snapshot is looked at again.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { localServiceLookup } from "../../runtime/telemetry/local-service.ts";
import type { Endpoint, RegistrySnapshot, Service } from "../../runtime/model/types.ts";

function service(hostname: string, namespace: string, endpoints: Partial<Endpoint>[]): Service {
  return {
    hostname,
    namespace,
    ports: [{ name: "http", number: 8080, protocol: "HTTP" }],
    endpoints: endpoints.map((e) => ({ address: "10.0.0.1", ports: { http: 8080 }, labels: {}, ready: true, ...e })),
    location: "MESH_INTERNAL",
    resolution: "STATIC",
    source: "test",
  };
}
const snapshot = (...services: Service[]): RegistrySnapshot => ({ services: new Map(services.map((s) => [s.hostname, s])) });

const reviews = service("reviews.default.svc.cluster.local", "default", [{ labels: { app: "reviews" } }]);
const ratings = service("ratings.default.svc.cluster.local", "default", [{ labels: { app: "ratings" } }]);
const reviewsV2 = service("reviews-v2.default.svc.cluster.local", "default", [{ labels: { app: "reviews", version: "v2" } }]);
const otherNs = service("reviews.prod.svc.cluster.local", "prod", [{ labels: { app: "reviews" } }]);

test("the one service whose endpoint labels the workload's labels satisfy, whatever the Host", () => {
  const find = localServiceLookup({ snapshot: () => snapshot(reviews, ratings, otherNs), namespace: "default", labels: { app: "reviews", version: "v1" } });
  assert.equal(find("reviews.example.com"), { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default" });
});

test("several services: the Host names one (short name or full); else the first by name", () => {
  const find = localServiceLookup({ snapshot: () => snapshot(reviewsV2, reviews), namespace: "default", labels: { app: "reviews", version: "v2" } });
  assert.is(find("reviews-v2:8080")?.host, "reviews-v2.default.svc.cluster.local");
  assert.is(find("reviews.default.svc.cluster.local")?.host, "reviews.default.svc.cluster.local");
  assert.is(find("unrelated.example")?.host, "reviews-v2.default.svc.cluster.local");
});

test("an endpoint at the inbound address counts without labels; other namespaces' labels do not", () => {
  const byAddress = service("legacy.default.svc.cluster.local", "default", [{ address: "127.0.0.1", ports: { http: 15006 } }]);
  const find = localServiceLookup({ snapshot: () => snapshot(byAddress, otherNs), namespace: "default", labels: { app: "reviews" }, inboundAddresses: () => ["127.0.0.1:15006"] });
  assert.is(find("x")?.host, "legacy.default.svc.cluster.local");
  const none = localServiceLookup({ snapshot: () => snapshot(otherNs), namespace: "default", labels: { app: "reviews" } });
  assert.is(none("reviews"), undefined, "a workload backing nothing here: unknown");
});

test("a new snapshot is looked at again", () => {
  let current = snapshot(ratings);
  const find = localServiceLookup({ snapshot: () => current, namespace: "default", labels: { app: "reviews" } });
  assert.is(find("reviews"), undefined);
  current = snapshot(ratings, reviews);
  assert.is(find("reviews")?.name, "reviews");
});

test.run();
