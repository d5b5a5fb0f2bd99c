// analyzeConfig: the cross-reference mistakes only the whole config shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { analyzeConfig, gatewayKey } from "../../runtime/config/analyze.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

const doc = (kind: string, name: string, spec: object, namespace = "default") =>
  JSON.stringify({ apiVersion: "networking.istio.io/v1", kind, metadata: { name, namespace }, spec });

const DR = doc("DestinationRule", "reviews", { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2" }] });
const GW = doc("Gateway", "edge", { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] }, "istio-system");
const route = (...destinations: object[]) => ({ hosts: ["reviews"], http: [{ route: destinations }] });
const KNOWN = ["reviews.default.svc.cluster.local"];

async function analyze(docs: string[], knownHosts = KNOWN) {
  const files = Object.fromEntries(docs.map((d, i) => [`f${i}.json`, d]));
  const { config, errors } = await loadConfig(Object.keys(files), { defaultNamespace: "default", ...memoryIO(files) });
  assert.equal(errors.map(formatConfigError), []);
  return analyzeConfig(config!, { knownHosts });
}

test("a clean config has nothing to say", async () => {
  const vs = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v1" }, weight: 90 }, { destination: { host: "reviews.default.svc.cluster.local", subset: "v2" }, weight: 10 }));
  assert.equal(await analyze([DR, vs]), []);
});

test("an unknown subset names the file, document, VirtualService and field", async () => {
  const vs = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v3" } }));
  const [e, ...rest] = await analyze([DR, vs]);
  assert.equal(rest, []);
  assert.equal([e.code, e.severity, e.file, e.document, e.kind, e.namespace, e.name, e.path], ["unknown-subset", "error", "f1.json", 0, "VirtualService", "default", "r", "spec.http[0].route[0].destination.subset"]);
  assert.is(e.message, 'subset "v3" of reviews.default.svc.cluster.local is not defined by any DestinationRule (DestinationRule default/reviews has v1, v2)');
});

test("an unknown subset lists every rule for the host, exact and wildcard, in config order", async () => {
  const wild = doc("DestinationRule", "all", { host: "*.default.svc.cluster.local", subsets: [{ name: "w" }] });
  const other = doc("DestinationRule", "ratings", { host: "ratings", subsets: [{ name: "r" }] });
  const second = doc("DestinationRule", "reviews-2", { host: "reviews", subsets: [{ name: "v9" }] });
  const vs = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v3" } }));
  const [e, ...rest] = await analyze([DR, wild, other, second, vs]);
  assert.equal(rest, []);
  assert.is(e.message, 'subset "v3" of reviews.default.svc.cluster.local is not defined by any DestinationRule (DestinationRule default/reviews has v1, v2; DestinationRule default/all has w; DestinationRule default/reviews-2 has v9)');
  // a subset the second rule for the host defines is merged in (as the model merges it)
  const merged = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v9" } }));
  assert.equal(await analyze([DR, wild, other, second, merged]), []);
  // the wildcard rule's subsets are not: the exact host's rules are the ones in force
  const shadowed = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "w" } }));
  const [w] = await analyze([DR, wild, other, second, shadowed]);
  assert.is(w.message, 'subset "w" of reviews.default.svc.cluster.local is not defined by the DestinationRule in force for it: default/reviews merged with default/reviews-2 has v1, v2, v9 (DestinationRule default/all defines it, but its host *.default.svc.cluster.local is less specific than reviews.default.svc.cluster.local)');
  // with no exact rule, the wildcard one is in force
  assert.equal(await analyze([wild, other, shadowed]), []);
});

test("several rules for one host: subsets merge within the oldest rule's namespace, as in the model", async () => {
  const at = (json: string, created: string) => json.replace('"namespace":', `"creationTimestamp":"${created}","namespace":`);
  const first = at(doc("DestinationRule", "reviews-a", { host: "reviews.default.svc.cluster.local", subsets: [{ name: "v1" }] }), "2026-01-01T00:00:00Z");
  const second = at(doc("DestinationRule", "reviews-b", { host: "reviews.default.svc.cluster.local", subsets: [{ name: "v2" }] }), "2026-01-02T00:00:00Z");
  const elsewhere = at(doc("DestinationRule", "reviews-c", { host: "reviews.default.svc.cluster.local", subsets: [{ name: "v3" }] }, "shop"), "2026-01-03T00:00:00Z");
  const to = (subset: string) => doc("VirtualService", "r", route({ destination: { host: "reviews", subset } }));
  assert.equal(await analyze([second, elsewhere, first, to("v2")]), []);
  const [e, ...rest] = await analyze([second, elsewhere, first, to("v3")]);
  assert.equal(rest, []);
  assert.is(e.message, 'subset "v3" of reviews.default.svc.cluster.local is not defined by the DestinationRule in force for it: default/reviews-a merged with default/reviews-b has v1, v2 (DestinationRule shop/reviews-c defines it, but it is in namespace shop, and only the rules of default (the oldest rule\'s) merge)');
});

test("short hosts expand against each resource's own namespace", async () => {
  // the rule in "shop" is for reviews.shop, so it does not define subsets for reviews.default
  const vs = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v1" } }));
  const [e] = await analyze([DR.replace('"namespace":"default"', '"namespace":"shop"'), vs]);
  assert.is(e.code, "unknown-subset");
  assert.match(e.message, /no DestinationRule for reviews.default.svc.cluster.local/);
  // a rule elsewhere naming the FQDN does count
  const fqdn = doc("DestinationRule", "reviews", { host: "reviews.default.svc.cluster.local", subsets: [{ name: "v1" }] }, "shop");
  assert.equal(await analyze([fqdn, vs]), []);
});

test("mirror destinations are checked too", async () => {
  const vs = doc("VirtualService", "r", { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews" } }], mirror: { host: "reviews", subset: "nope" } }] });
  assert.equal((await analyze([DR, vs])).map((e) => e.path), ["spec.http[0].mirror.subset"]);
});

test("gateways: short, ns/name, legacy FQDN; mesh is reserved", async () => {
  assert.is(gatewayKey("edge", "default"), "default/edge");
  assert.is(gatewayKey("istio-system/edge", "default"), "istio-system/edge");
  assert.is(gatewayKey("edge.istio-system.svc.cluster.local", "default"), "istio-system/edge");
  const ok = doc("VirtualService", "ok", { ...route({ destination: { host: "reviews" } }), gateways: ["mesh", "istio-system/edge", "edge.istio-system"] });
  assert.equal(await analyze([GW, ok]), []);
  const bad = doc("VirtualService", "bad", { hosts: ["reviews"], gateways: ["edge"], http: [{ match: [{ gateways: ["nope/gw"] }], route: [{ destination: { host: "reviews" } }] }] });
  const found = await analyze([GW, bad]);
  assert.equal(found.map((e) => [e.code, e.severity, e.path, e.message]), [
    ["unknown-gateway", "error", "spec.gateways[0]", "Gateway default/edge does not exist"],
    ["unknown-gateway", "error", "spec.http[0].match[0].gateways[0]", "Gateway nope/gw does not exist"],
  ]);
});

test("hosts: known from the registry, from ServiceEntries (wildcards too), else a warning", async () => {
  const se = doc("ServiceEntry", "ext", { hosts: ["api.example.com", "*.wild.example.com"], ports: [{ number: 443, name: "https", protocol: "HTTPS" }], resolution: "STATIC", endpoints: [{ address: "192.0.2.1" }] });
  const vs = doc("VirtualService", "r", {
    hosts: ["reviews"],
    http: [{ route: [{ destination: { host: "api.example.com" } }] }, { route: [{ destination: { host: "x.wild.example.com" } }] }, { route: [{ destination: { host: "ratings" } }] }],
  });
  const found = await analyze([se, vs], []);
  assert.equal(found.map((e) => [e.code, e.severity, e.path]), [["unknown-host", "warning", "spec.http[2].route[0].destination.host"]]);
  assert.match(found[0].message, /ratings.default.svc.cluster.local is neither a known service nor a ServiceEntry host/);
  assert.equal(await analyze([se, vs], ["ratings.default.svc.cluster.local"]), []);
});

test("weights adding up to zero", async () => {
  const zero = doc("VirtualService", "r", route({ destination: { host: "reviews", subset: "v1" }, weight: 0 }, { destination: { host: "reviews", subset: "v2" } }));
  const found = await analyze([DR, zero]);
  assert.equal(found.map((e) => [e.code, e.severity, e.path]), [["zero-weight", "error", "spec.http[0].route"]]);
  // a lone destination takes all traffic whatever its weight says
  assert.equal(await analyze([DR, doc("VirtualService", "r", route({ destination: { host: "reviews" }, weight: 0 }))]), []);
});

test("tcp and tls routes are checked like http ones", async () => {
  // tcp routes load only when bound to a gateway (config/l4-honesty.ts)
  const vs = doc("VirtualService", "r", { hosts: ["reviews"], gateways: ["istio-system/edge"], tcp: [{ route: [{ destination: { host: "reviews", subset: "v9" } }] }] });
  assert.equal((await analyze([DR, GW, vs])).map((e) => e.path), ["spec.tcp[0].route[0].destination.subset"]);
});

test.run();
