// DestinationRule workloadSelector (Istio's): a rule with one applies only to the proxies of its own
// namespace whose labels include matchLabels, and then wins over rules without one for its host;
// a rule without one applies to every proxy, oldest first. Several rules without one for a host merge
// as Istio merges them (subsets joined, oldest definition first; the oldest top-level trafficPolicy).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DestinationRule } from "../../runtime/config/types.ts";
import { indexDestinationRules, mergedFrom, ruleApplies } from "../../runtime/model/destination-rules.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { analyzeConfig } from "../../runtime/config/analyze.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { memoryIO } from "../config/memory-io.ts";

const rule = (name: string, namespace: string, created: string, matchLabels?: Record<string, string>): DestinationRule => ({
  apiVersion: "networking.istio.io/v1",
  kind: "DestinationRule",
  metadata: { name, namespace, labels: {}, annotations: {}, creationTimestamp: created },
  spec: { host: "api.example.com", ...(matchLabels ? { workloadSelector: { matchLabels } } : {}) },
  origin: { file: "dr.yaml", document: 0 },
});

const curl = { namespace: "default", labels: { app: "curl", version: "v1" } };
const other = { namespace: "default", labels: { app: "other" } };
const elsewhere = { namespace: "shop", labels: { app: "curl" } };

test("a workloadSelector applies in its own namespace to proxies whose labels include matchLabels", () => {
  const selective = rule("selective", "default", "2026-01-02T00:00:00Z", { app: "curl" });
  assert.ok(ruleApplies(selective, curl));
  assert.not.ok(ruleApplies(selective, other), "labels differ");
  assert.not.ok(ruleApplies(selective, elsewhere), "another namespace");
  assert.not.ok(ruleApplies(selective, undefined), "no proxy to match");
  assert.ok(ruleApplies(rule("all", "default", "2026-01-01T00:00:00Z"), other), "no selector: every proxy");
});

test("the selecting rule wins over an older rule without a selector; other proxies get the catch-all", () => {
  const catchAll = rule("catch-all", "default", "2026-01-01T00:00:00Z");
  const selective = rule("selective", "default", "2026-01-02T00:00:00Z", { app: "curl" });
  assert.is(indexDestinationRules([catchAll, selective], curl).find("api.example.com")?.metadata.name, "selective");
  assert.is(indexDestinationRules([catchAll, selective], other).find("api.example.com")?.metadata.name, "catch-all");
  assert.is(indexDestinationRules([selective], other).find("api.example.com"), undefined, "a rule for other proxies is not this one's");
});

const withSpec = (r: DestinationRule, spec: Partial<DestinationRule["spec"]>): DestinationRule => ({ ...r, spec: { ...r.spec, ...spec } });

test("rules for one host merge: subsets joined (a name given twice: the oldest), the oldest top-level trafficPolicy", () => {
  const older = withSpec(rule("a", "default", "2026-01-01T00:00:00Z"), { subsets: [{ name: "v1", labels: { version: "v1" } }] });
  const newer = withSpec(rule("b", "default", "2026-01-02T00:00:00Z"), {
    trafficPolicy: { loadBalancer: { simple: "RANDOM" } },
    subsets: [{ name: "v1", labels: { version: "other" } }, { name: "v2", labels: { version: "v2" } }],
  });
  const newest = withSpec(rule("c", "default", "2026-01-03T00:00:00Z"), { trafficPolicy: { loadBalancer: { simple: "LEAST_REQUEST" } } });
  const found = indexDestinationRules([newest, newer, older], other).find("api.example.com")!;
  assert.equal(found.spec.subsets, [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }]);
  assert.equal(found.spec.trafficPolicy, { loadBalancer: { simple: "RANDOM" } });
  assert.equal(mergedFrom(found).map((r) => r.metadata.name), ["a", "b", "c"]);
  assert.is(found.metadata.name, "a");
  // the same rules give the same merged object (on-demand.ts shares compiled hosts by identity)
  assert.is(indexDestinationRules([older, newer, newest], other).find("api.example.com"), found);
});

test("only the oldest rule's namespace merges; a selecting rule stays alone", () => {
  const older = withSpec(rule("a", "default", "2026-01-01T00:00:00Z"), { subsets: [{ name: "v1" }] });
  const shop = withSpec(rule("b", "shop", "2026-01-02T00:00:00Z"), { host: "api.example.com", subsets: [{ name: "v2" }] });
  assert.equal(indexDestinationRules([shop, older], other).find("api.example.com")?.spec.subsets, [{ name: "v1" }]);
  const selective = withSpec(rule("s", "default", "2026-01-03T00:00:00Z", { app: "curl" }), { subsets: [{ name: "v3" }] });
  assert.equal(indexDestinationRules([older, selective], curl).find("api.example.com")?.spec.subsets, [{ name: "v3" }]);
  assert.equal(indexDestinationRules([older, selective], other).find("api.example.com")?.spec.subsets, [{ name: "v1" }]);
});

const MESH = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
  - { address: 10.0.0.1, labels: { version: v1 } }
  - { address: 10.0.0.2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo-v1, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z" }
spec:
  host: echo.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo-v2, namespace: default, creationTimestamp: "2026-01-02T00:00:00Z" }
spec:
  host: echo.default.svc.cluster.local
  trafficPolicy: { loadBalancer: { simple: RANDOM } }
  subsets: [{ name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  http: [{ route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }] }]
`;

test("compile: a subset defined only by the second rule for a host gets its hosts; check agrees", async () => {
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": MESH }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  assert.equal(analyzeConfig(config, { knownHosts: [] }), []);
  const t = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "sidecar", namespace: "default", labels: {} }, { random: () => 0, version: 1 });
  const v2 = t.clusters.get("outbound|8080|v2|echo.default.svc.cluster.local")!;
  assert.ok(v2, "the v2 cluster is built");
  assert.equal(v2.hosts.map((h) => h.address), ["10.0.0.2:8080"]);
  // the top-level trafficPolicy of the second rule applies: the first has none
  assert.equal(v2.policy.loadBalancer, { simple: "RANDOM" });
});

test.run();
