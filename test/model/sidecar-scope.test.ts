// Sidecar resources in the compile (runtime/model/sidecar-scope.ts, unknown-host.ts): which one
// applies to a workload (selector in its namespace, then the namespace's, then the root
// namespace's; the oldest at each level), what its egress hosts let into the outbound routes (with
// the services an in-scope VirtualService sends to), that hosts outside the scope are never
// compiled on demand, and what an unknown host gets by outbound traffic policy.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type ProxyIdentity } from "../../runtime/model/compile.ts";
import { findVirtualHost, type RouteTable } from "../../runtime/model/route-table.ts";
import { sidecarFor } from "../../runtime/model/sidecar-scope.ts";
import type { MeshConfig } from "../../runtime/config/types.ts";
import type { RequestFacts } from "../../runtime/routing/request-facts.ts";
import { memoryIO } from "../config/memory-io.ts";

const service = (name: string, ns: string, host = `${name}.${ns}.svc.cluster.local`) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.0.1 }]
`;
const sidecar = (name: string, ns: string, spec: string, created = "2026-01-01T00:00:00Z") => `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: ${name}, namespace: ${ns}, creationTimestamp: "${created}" }
spec:
${spec}`;

async function configOf(docs: string[]): Promise<MeshConfig> {
  const { config, errors } = await loadConfig(["m.yaml"], { defaultNamespace: "default", ...memoryIO({ "m.yaml": docs.join("---\n") }) });
  assert.equal(errors, []);
  return config!;
}

const shop: ProxyIdentity = { kind: "sidecar", namespace: "shop", labels: { app: "cart" } };
const build = (config: MeshConfig, proxy = shop, options: { onDemandAbove?: number } = {}) =>
  compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), proxy, { random: () => 0.5, version: 1, ...options });
const facts = (authority: string, port = 8080) => ({ authority, port, method: "GET", scheme: "http", path: "/", query: "", headers: new Headers() }) as RequestFacts;
const known = (table: RouteTable, host: string) => findVirtualHost(table.outbound, host) !== undefined;

const mesh = [
  service("cart", "shop"),
  service("pay", "shop"),
  service("catalog", "web"),
  service("ads", "web"),
  service("api", "ext", "api.example.com"),
  service("cdn", "ext", "cdn.example.com"),
  `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: catalog, namespace: web }
spec:
  hosts: [catalog.web.svc.cluster.local]
  http: [{ route: [{ destination: { host: ads.web.svc.cluster.local } }] }]
`,
];

test("the Sidecar in effect: selector match in the workload's namespace, else the namespace's, else the root namespace's; oldest first", async () => {
  const config = await configOf([
    sidecar("root", "istio-system", "  egress: [{ hosts: [\"./*\"] }]\n"),
    sidecar("root-selected", "istio-system", "  workloadSelector: { labels: { app: cart } }\n  egress: [{ hosts: [\"./*\"] }]\n"),
    sidecar("ns-newer", "shop", "  egress: [{ hosts: [\"./*\"] }]\n", "2026-02-01T00:00:00Z"),
    sidecar("ns-older", "shop", "  egress: [{ hosts: [\"./*\"] }]\n", "2026-01-15T00:00:00Z"),
    sidecar("cart-newer", "shop", "  workloadSelector: { labels: { app: cart } }\n  egress: [{ hosts: [\"./*\"] }]\n", "2026-03-01T00:00:00Z"),
    sidecar("cart-older", "shop", "  workloadSelector: { labels: { app: cart } }\n  egress: [{ hosts: [\"./*\"] }]\n", "2026-02-15T00:00:00Z"),
  ]);
  const name = (w: { namespace: string; labels: Record<string, string> }) => sidecarFor(config.sidecars, w)?.metadata.name;
  assert.is(name({ namespace: "shop", labels: { app: "cart" } }), "cart-older");
  assert.is(name({ namespace: "shop", labels: { app: "pay" } }), "ns-older");
  // the root namespace's selector-less one is the mesh-wide default; its selector-bound one applies only there
  assert.is(name({ namespace: "web", labels: { app: "cart" } }), "root");
  assert.is(name({ namespace: "istio-system", labels: { app: "cart" } }), "root-selected");
  assert.is(sidecarFor(config.sidecars, { namespace: "web", labels: {} }, "mesh-root"), undefined);
});

test("no Sidecar: every host known, unknown hosts 404 NR (no unknownHost route)", async () => {
  const table = build(await configOf(mesh));
  for (const host of ["cart", "pay.shop", "catalog.web.svc.cluster.local", "ads.web", "api.example.com", "cdn.example.com"]) assert.ok(known(table, host), host);
  assert.is(table.outbound.unknownHost, undefined);
  assert.equal(table.outbound.scope, { sidecar: undefined, hosts: ["*/*"], outboundTrafficPolicy: undefined, services: { inScope: 6, total: 6 }, virtualServices: { inScope: 1, total: 1 } });
});

test("egress hosts scope services and VirtualServices; an in-scope VirtualService brings its destinations", async () => {
  const config = await configOf([...mesh, sidecar("scope", "shop", "  egress:\n  - hosts: [\"./*\", \"web/catalog.web.svc.cluster.local\", \"*/*.example.com\", \"~/pay.shop.svc.cluster.local\"]\n")]);
  for (const onDemandAbove of [200, 0]) {
    const table = build(config, shop, { onDemandAbove });
    const seen = ["cart", "pay", "catalog.web", "ads.web", "api.example.com", "cdn.example.com"].filter((h) => known(table, h));
    assert.equal(seen, ["cart", "pay", "catalog.web", "ads.web", "api.example.com", "cdn.example.com"], `on demand above ${onDemandAbove}`);
  }
  const narrow = await configOf([...mesh, sidecar("scope", "shop", "  egress:\n  - hosts: [\"ext/api.example.com\", \"~/*\"]\n")]);
  for (const onDemandAbove of [200, 0]) {
    const table = build(narrow, shop, { onDemandAbove });
    assert.equal(["cart", "pay", "catalog.web", "ads.web", "api.example.com", "cdn.example.com"].filter((h) => known(table, h)), ["api.example.com"]);
    assert.equal(table.outbound.scope!.services, { inScope: 1, total: 6 });
    assert.equal(table.outbound.scope!.virtualServices, { inScope: 0, total: 1 });
    assert.is(table.outbound.scope!.sidecar, "shop/scope");
    // out of scope, so never a cluster either
    assert.equal([...table.clusters.keys()].filter((c) => !c.endsWith("api.example.com")), []);
  }
  // a wrong namespace lets nothing in: api.example.com lives in ext, not web
  const wrongNs = build(await configOf([...mesh, sidecar("scope", "shop", "  egress:\n  - hosts: [\"web/api.example.com\"]\n")]));
  assert.not.ok(known(wrongNs, "api.example.com"));
});

test("on demand: a host outside the scope is never compiled, whatever is asked", async () => {
  const config = await configOf([...mesh, sidecar("scope", "shop", "  egress:\n  - hosts: [\"./*\"]\n")]);
  const table = build(config, shop, { onDemandAbove: 0 });
  assert.ok(table.outbound.onDemand);
  for (const host of ["catalog.web", "ads.web.svc.cluster.local", "api.example.com"]) assert.is(findVirtualHost(table.outbound, host), undefined, host);
  assert.equal(table.outbound.onDemand!.compiled().map((c) => c.host), []);
  findVirtualHost(table.outbound, "cart");
  assert.equal(table.outbound.onDemand!.compiled().map((c) => c.host), ["cart.shop.svc.cluster.local"]);
  assert.is(table.outbound.onDemand!.hosts, 2);
});

test("outbound traffic policy: the Sidecar's, else the mesh default; REGISTRY_ONLY is block_all 502, ALLOW_ANY a passthrough to the named host and port", async () => {
  const blocked = build(await configOf([...mesh, sidecar("s", "shop", "  outboundTrafficPolicy: { mode: REGISTRY_ONLY }\n")]), { ...shop, outboundTrafficPolicy: "ALLOW_ANY" });
  const block = blocked.outbound.unknownHost!(facts("nowhere.example.org"));
  assert.is(block.name, "block_all");
  assert.is(block.action.kind, "respond");
  if (block.action.kind === "respond") assert.is(block.action.respond(facts("nowhere.example.org")).status, 502);
  assert.is(blocked.outbound.scope!.outboundTrafficPolicy, "REGISTRY_ONLY");
  // a Sidecar without the field leaves the mesh default in force
  const open = build(await configOf([...mesh, sidecar("s", "shop", "  egress: [{ hosts: [\"./*\"] }]\n")]), { ...shop, outboundTrafficPolicy: "ALLOW_ANY" });
  const pass = open.outbound.unknownHost!(facts("localhost:9999", 9999));
  assert.is(pass.name, "allow_any");
  assert.is(pass.action.kind, "forward");
  if (pass.action.kind === "forward") {
    const cluster = pass.action.pick().cluster;
    assert.is(cluster.name, "PassthroughCluster");
    assert.equal(cluster.hosts.map((h) => h.address), ["localhost:9999"]);
  }
  // the same host and port: the same route (and cluster), not one per request
  assert.is(open.outbound.unknownHost!(facts("localhost:9999", 9999)), pass);
  // in scope wins over passthrough: a known host keeps its own routes
  assert.ok(known(open, "cart"));
});

test.run();
