// Static registry: ServiceEntry + WorkloadEntry → frozen RegistrySnapshot, and Istio's endpoint port rule.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ServiceEntry, ServiceEntrySpec, WorkloadEntry, WorkloadEntrySpec } from "../../../runtime/config/types.ts";
import { snapshotFromConfig } from "../../../adapters/static/from-config.ts";
import { endpointPort } from "../../../adapters/static/endpoint-port.ts";

function se(name: string, spec: ServiceEntrySpec, namespace = "default", creationTimestamp?: string): ServiceEntry {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "ServiceEntry",
    metadata: { name, namespace, labels: {}, annotations: {}, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec,
    origin: { file: "t.yaml", document: 0 },
  };
}
function we(name: string, spec: WorkloadEntrySpec, namespace = "default"): WorkloadEntry {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "WorkloadEntry",
    metadata: { name, namespace, labels: {}, annotations: {} },
    spec,
    origin: { file: "t.yaml", document: 0 },
  };
}
const http = { name: "http", number: 80, protocol: "HTTP" };

test("STATIC endpoints keep labels, ports, weight and identity", () => {
  const snap = snapshotFromConfig([
    se("reviews", {
      hosts: ["Reviews.Internal."],
      location: "MESH_INTERNAL",
      resolution: "STATIC",
      ports: [{ name: "http", number: 9080, protocol: "http", targetPort: 8080 }],
      endpoints: [
        { address: "10.0.0.1", labels: { version: "v1" }, serviceAccount: "reviews", weight: 3 },
        { address: "10.0.0.2", labels: { version: "v2" }, ports: { http: 9999 } },
      ],
    }, "shop"),
  ], []);
  const svc = snap.services.get("reviews.internal")!;
  assert.ok(svc, "host lower-cased, trailing dot dropped, not expanded");
  assert.is(svc.namespace, "shop");
  assert.is(svc.location, "MESH_INTERNAL");
  assert.is(svc.resolution, "STATIC");
  assert.is(svc.source, "static");
  assert.equal(svc.ports, [{ name: "http", number: 9080, protocol: "HTTP", targetPort: 8080 }]);
  const [v1, v2] = svc.endpoints;
  assert.equal(v1, {
    address: "10.0.0.1", ports: {}, labels: { version: "v1" }, ready: true, namespace: "shop",
    identity: "spiffe://cluster.local/ns/shop/sa/reviews", weight: 3,
  });
  assert.equal(v2.labels, { version: "v2" });
  assert.is(v2.identity, undefined);
  assert.is(endpointPort(v1, svc.ports[0]), 8080, "no ports entry: targetPort");
  assert.is(endpointPort(v2, svc.ports[0]), 9999, "ports map wins");
});

test("the identity is in the mesh's trust domain when the proxy's CA has its own (as istiod makes the SAN)", () => {
  const entry = se("reviews", { hosts: ["reviews.internal"], resolution: "STATIC", ports: [http], endpoints: [{ address: "10.0.0.1", serviceAccount: "reviews" }] }, "shop");
  assert.is(snapshotFromConfig([entry], [], "static", "example.org").services.get("reviews.internal")!.endpoints[0].identity, "spiffe://example.org/ns/shop/sa/reviews");
  assert.is(snapshotFromConfig([entry], []).services.get("reviews.internal")!.endpoints[0].identity, "spiffe://cluster.local/ns/shop/sa/reviews", "default");
});

test("defaults follow Istio: MESH_EXTERNAL, resolution NONE; protocol from port name", () => {
  const snap = snapshotFromConfig([
    se("ext", { hosts: ["api.example.com", "*.example.org"], ports: [{ name: "grpc-web-x", number: 81 }, { name: "tcp-db", number: 5432 }, { name: "web", number: 8080 }] }),
  ], [], "files");
  const svc = snap.services.get("api.example.com")!;
  assert.is(svc.location, "MESH_EXTERNAL");
  assert.is(svc.resolution, "NONE");
  assert.is(svc.source, "files");
  assert.equal(svc.ports.map((p) => p.protocol), ["GRPC-WEB", "TCP", "HTTP"]);
  assert.ok(snap.services.get("*.example.org"), "wildcard kept as written");
});

test("NONE without endpoints sends to the request's authority: the host itself, on the port the request names", () => {
  const snap = snapshotFromConfig([
    se("ext", { hosts: ["API.example.com", "127.0.0.9"], ports: [http, { name: "tcp-db", number: 5432 }] }),
    se("vm", { hosts: ["vm.example.com"], ports: [http], workloadSelector: { labels: { app: "vm" } } }),
    se("none-static", { hosts: ["static.example.com"], resolution: "STATIC", ports: [http] }),
  ], [we("vm-1", { address: "192.168.1.1", labels: { app: "vm" } })]);
  const svc = snap.services.get("api.example.com")!;
  assert.equal(svc.endpoints.map((e) => e.address), ["api.example.com"]);
  assert.is(endpointPort(svc.endpoints[0], svc.ports[1]), 5432);
  assert.equal(snap.services.get("127.0.0.9")!.endpoints.map((e) => e.address), ["127.0.0.9"], "an IP literal host is its own address");
  assert.equal(snap.services.get("vm.example.com")!.endpoints.map((e) => e.address), ["192.168.1.1"], "a workloadSelector's entries are the endpoints");
  assert.equal(snap.services.get("static.example.com")!.endpoints, [], "STATIC lists what it has: nothing");
});

test("endpointPort: ports map, then targetPort, then number", () => {
  const ep = { address: "a", ports: { http: 8081 }, labels: {}, ready: true };
  assert.is(endpointPort(ep, { name: "http", number: 80, protocol: "HTTP", targetPort: 9000 }), 8081);
  assert.is(endpointPort(ep, { name: "admin", number: 81, protocol: "HTTP", targetPort: 9000 }), 9000);
  assert.is(endpointPort(ep, { name: "admin", number: 81, protocol: "HTTP" }), 81);
  assert.is(endpointPort(ep, { name: "constructor", number: 82, protocol: "HTTP" }), 82);
});

test("workloadSelector selects WorkloadEntries of the same namespace by label subset", () => {
  const snap = snapshotFromConfig(
    [se("vm", { hosts: ["vm.svc.local"], resolution: "STATIC", location: "MESH_INTERNAL", ports: [http], workloadSelector: { labels: { app: "vm" } } })],
    [
      we("vm-1", { address: "192.168.1.1", labels: { app: "vm", version: "v1" }, ports: { http: 8080 }, serviceAccount: "vm-sa" }),
      we("vm-2", { address: "192.168.1.2", labels: { app: "vm", version: "v2" } }),
      we("other-app", { address: "192.168.1.3", labels: { app: "db" } }),
      we("other-ns", { address: "192.168.1.4", labels: { app: "vm" } }, "elsewhere"),
      we("no-labels", { address: "192.168.1.5" }),
    ],
  );
  const svc = snap.services.get("vm.svc.local")!;
  assert.equal(svc.endpoints.map((e) => e.address), ["192.168.1.1", "192.168.1.2"]);
  const [one, two] = svc.endpoints;
  assert.is(one.identity, "spiffe://cluster.local/ns/default/sa/vm-sa");
  assert.is(one.ready, true);
  assert.is(endpointPort(one, svc.ports[0]), 8080);
  assert.is(endpointPort(two, svc.ports[0]), 80);
  assert.equal(two.labels, { app: "vm", version: "v2" });
});

test("DNS without endpoints sends to the host itself on the service port", () => {
  const snap = snapshotFromConfig([
    se("ext", { hosts: ["HTTPBin.org", "*.wild.example"], resolution: "DNS", ports: [http, { name: "https", number: 443, protocol: "TLS", targetPort: 8443 }] }),
  ], []);
  const svc = snap.services.get("httpbin.org")!;
  assert.is(svc.endpoints.length, 1);
  const [ep] = svc.endpoints;
  assert.is(ep.address, "httpbin.org");
  assert.is(ep.ready, true);
  assert.is(endpointPort(ep, svc.ports[0]), 80);
  assert.is(endpointPort(ep, svc.ports[1]), 8443);
  assert.equal(snap.services.get("*.wild.example")!.endpoints, [], "a wildcard cannot be resolved");
});

test("DNS with endpoints uses their addresses as names", () => {
  const snap = snapshotFromConfig([
    se("ext", { hosts: ["api.example.com"], resolution: "DNS_ROUND_ROBIN", ports: [http], endpoints: [{ address: "us.api.example.com" }, { address: "eu.api.example.com", ports: { http: 8080 } }] }),
  ], []);
  const svc = snap.services.get("api.example.com")!;
  assert.equal(svc.endpoints.map((e) => e.address), ["us.api.example.com", "eu.api.example.com"]);
  assert.is(endpointPort(svc.endpoints[1], svc.ports[0]), 8080);
});

test("a host declared twice: the oldest ServiceEntry wins, then namespace/name", () => {
  const old = se("b-old", { hosts: ["dup.example.com"], resolution: "STATIC", ports: [http], endpoints: [{ address: "1.1.1.1" }] }, "zeta", "2024-01-01T00:00:00Z");
  const young = se("a-new", { hosts: ["dup.example.com", "only-young.example.com"], resolution: "STATIC", ports: [http], endpoints: [{ address: "2.2.2.2" }] }, "alpha", "2024-06-01T00:00:00Z");
  for (const order of [[old, young], [young, old]]) {
    const snap = snapshotFromConfig(order, []);
    assert.is(snap.services.get("dup.example.com")!.endpoints[0].address, "1.1.1.1");
    assert.is(snap.services.get("dup.example.com")!.namespace, "zeta");
    assert.ok(snap.services.get("only-young.example.com"), "the loser's other hosts still count");
  }
  const sameTime = (name: string, ns: string, ip: string) =>
    se(name, { hosts: ["tie.example.com"], ports: [http], endpoints: [{ address: ip }] }, ns, "2024-01-01T00:00:00Z");
  const tie = snapshotFromConfig([sameTime("a", "ns-b", "3.3.3.3"), sameTime("z", "ns-a", "4.4.4.4"), sameTime("b", "ns-a", "5.5.5.5")], []);
  assert.is(tie.services.get("tie.example.com")!.endpoints[0].address, "5.5.5.5");
  const undated = se("undated", { hosts: ["tie.example.com"], ports: [http], endpoints: [{ address: "6.6.6.6" }] }, "ns-z");
  const withUndated = snapshotFromConfig([sameTime("b", "ns-a", "5.5.5.5"), undated], []);
  assert.is(withUndated.services.get("tie.example.com")!.endpoints[0].address, "6.6.6.6", "no timestamp counts as oldest");
});

test("the snapshot's objects are frozen (its lists are not: model/registry.ts says why)", () => {
  const snap = snapshotFromConfig([se("s", { hosts: ["s.example.com"], resolution: "STATIC", ports: [http], endpoints: [{ address: "1.1.1.1", labels: { a: "b" }, ports: { http: 1 } }] })], []);
  const svc = snap.services.get("s.example.com")!;
  for (const value of [snap, svc, svc.ports[0], svc.endpoints[0], svc.endpoints[0].labels, svc.endpoints[0].ports]) {
    assert.ok(Object.isFrozen(value));
  }
  const services = snap.services as Map<string, unknown>;
  assert.throws(() => services.set("x", {}));
  assert.throws(() => services.delete("s.example.com"));
  assert.throws(() => services.clear());
  assert.is(snap.services.size, 1);
});

test("empty input gives an empty snapshot", () => {
  assert.is(snapshotFromConfig([], []).services.size, 0);
});

test.run();
