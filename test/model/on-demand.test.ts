// Outbound hosts compiled on first use (runtime/model/on-demand.ts, issue 11): for every name a
// client may use, the on-demand table finds the same virtual host, routes and clusters as the
// table compiled at once; nothing is compiled before a lookup; the compiled set is bounded (least
// recently used out); a reload carries used hosts over — the same objects when nothing they were
// built from changed, compiled again when it did — and leaves idle ones behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type CompileOptions } from "../../runtime/model/compile.ts";
import { findVirtualHost, type RouteTable } from "../../runtime/model/route-table.ts";
import type { MeshConfig } from "../../runtime/config/types.ts";
import { memoryIO } from "../config/memory-io.ts";

const service = (i: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [svc-${i}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }, { number: 9090, name: http-admin, protocol: HTTP }]
  endpoints:
  - { address: 10.0.${i}.1, labels: { version: v1 } }
  - { address: 10.0.${i}.2, labels: { version: v2 } }
`;
const routed = (i: number, weight = 90) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc-${i}, namespace: default }
spec:
  host: svc-${i}
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [svc-${i}]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: svc-${i}, subset: v2 } }]
  - route:
    - { destination: { host: svc-${i}, subset: v1 }, weight: ${weight} }
    - { destination: { host: svc-${i}, subset: v2 }, weight: ${100 - weight} }
`;
const extras = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: external, namespace: default }
spec:
  hosts: ["*.example.com", api.partner.io]
  http: [{ route: [{ destination: { host: svc-1 } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: canary-only, namespace: default }
spec:
  hosts: [svc-2]
  http: [{ match: [{ sourceLabels: { app: other } }], route: [{ destination: { host: svc-3 } }] }]
`;

async function load(files: Record<string, string>): Promise<MeshConfig> {
  const result = await loadConfig(["mesh"], { defaultNamespace: "default", ...memoryIO(files) });
  assert.ok(result.config, JSON.stringify(result.errors));
  return result.config!;
}
function mesh(n: number, weight = 90): Record<string, string> {
  const docs = Array.from({ length: n }, (_, i) => service(i) + (i % 3 === 0 ? `---\n${routed(i, weight)}` : ""));
  return { "mesh/services.yaml": docs.join("---\n"), "mesh/extras.yaml": extras };
}
const proxy = { kind: "sidecar" as const, namespace: "default", labels: { app: "web" } };
function table(config: MeshConfig, options: Partial<CompileOptions> = {}): RouteTable {
  const snapshot = snapshotFromConfig(config.serviceEntries, config.workloadEntries);
  return compile(config, snapshot, proxy, { random: () => 0.5, version: 1, ...options });
}
/** what a request to `name` meets: virtual host, route names, and each route's cluster names */
function seen(t: RouteTable, name: string) {
  const vh = findVirtualHost(t.outbound, name);
  if (!vh) return undefined;
  return { name: vh.name, domains: vh.domains, routes: vh.routes.map((r) => [r.name, r.catchAll, r.action.kind === "forward" ? r.action.targets.map((x) => x.cluster.name) : []]) };
}
const NAMES = ["svc-0", "svc-0.default", "svc-0.default.svc", "svc-0.default.svc.cluster.local", "svc-1", "svc-2", "svc-3.default", "svc-4", "svc-9.default.svc.cluster.local", "shop.example.com", "api.partner.io", "nothing", "svc-99"];

test("every name finds what the table compiled at once finds", async () => {
  const config = await load(mesh(12));
  const eager = table(config);
  const lazy = table(config, { onDemandAbove: 0 });
  assert.is(eager.outbound.onDemand, undefined, "12 services: compiled at once, as before");
  assert.ok(lazy.outbound.onDemand);
  for (const name of NAMES) assert.equal(seen(lazy, name), seen(eager, name), name);
  for (const name of ["svc-0", "svc-2", "shop.example.com"]) assert.ok(seen(lazy, name), `${name} routes`);
  assert.is(seen(lazy, "svc-2")!.routes[0][0], "default|8080|svc-2.default.svc.cluster.local", "a VirtualService that does not apply to this proxy leaves the service's default routes");
  assert.is(seen(lazy, "nothing"), undefined);
});

test("nothing compiled before a request; a lookup compiles that host and its clusters only", async () => {
  const lazy = table(await load(mesh(12)), { onDemandAbove: 0 });
  const onDemand = lazy.outbound.onDemand!;
  assert.is(onDemand.hosts, 13, "12 services and the VirtualService's api.partner.io by exact name (the wildcard is compiled with the table)");
  assert.equal(onDemand.compiled().map((c) => c.host), ["*.example.com"]);
  const before = [...lazy.clusters.keys()];
  assert.equal(before, ["outbound|8080||svc-1.default.svc.cluster.local"], "the wildcard host's cluster only");
  findVirtualHost(lazy.outbound, "svc-3.default");
  assert.equal(onDemand.compiled().at(-1), { host: "svc-3.default.svc.cluster.local", why: "first request for svc-3.default" });
  assert.equal([...lazy.clusters.keys()].filter((k) => !before.includes(k)).sort(), [
    "outbound|8080|v1|svc-3.default.svc.cluster.local",
    "outbound|8080|v2|svc-3.default.svc.cluster.local",
  ]);
  assert.equal([...lazy.outbound.exact.keys()].filter((k) => k.startsWith("svc-3")).sort(), ["svc-3", "svc-3.default", "svc-3.default.svc", "svc-3.default.svc.cluster.local"], "iteration shows compiled hosts under their names");
  assert.not.ok([...lazy.outbound.exact.keys()].some((k) => k.startsWith("svc-4")), "never forces the rest");
});

test("bounded: the least recently used host goes first", async () => {
  const lazy = table(await load(mesh(12)), { onDemandAbove: 0, onDemandLimit: 3 });
  for (const name of ["svc-4", "svc-5", "svc-6", "svc-4", "svc-7"]) findVirtualHost(lazy.outbound, name);
  assert.equal(lazy.outbound.onDemand!.compiled().map((c) => c.host.split(".")[0]), ["*", "svc-6", "svc-4", "svc-7"], "the wildcard is not counted: it is part of the table");
});

test("a reload carries used hosts over: shared when unchanged, compiled again when changed, idle ones left", async () => {
  const first = await load(mesh(12));
  const old = table(first, { onDemandAbove: 0 });
  const vh0 = findVirtualHost(old.outbound, "svc-0")!;
  const vh4 = findVirtualHost(old.outbound, "svc-4")!;
  // the same resources (an incremental reload keeps unchanged ones as the same objects), svc-0's route changed
  const changed = await load(mesh(12, 50));
  const config: MeshConfig = { ...first, virtualServices: [...changed.virtualServices.filter((v) => v.metadata.name === "svc-0"), ...first.virtualServices.filter((v) => v.metadata.name !== "svc-0")] };
  const next = table(config, { onDemandAbove: 0, previous: old, version: 2 });
  const carried = next.outbound.onDemand!.compiled();
  assert.equal(carried.map((c) => c.host).sort(), ["*.example.com", "svc-0.default.svc.cluster.local", "svc-4.default.svc.cluster.local"]);
  assert.match(carried.find((c) => c.host.startsWith("svc-4"))!.why, /shared with the previous table/);
  assert.ok(next.clusters.has("outbound|8080||svc-4.default.svc.cluster.local"), "its clusters are in the new table before any request");
  assert.ok(findVirtualHost(next.outbound, "svc-4") === vh4, "unchanged: the same compiled host");
  const now0 = findVirtualHost(next.outbound, "svc-0")!;
  assert.ok(now0 !== vh0, "changed VirtualService: compiled again");
  assert.equal(seen(next, "svc-0"), seen(table(config), "svc-0"));

  const again = table(config, { onDemandAbove: 0, previous: next, version: 3 });
  assert.is(again.outbound.onDemand!.compiled().find((c) => c.host.startsWith("svc-4"))!.why, "first request for svc-4; shared with the previous table", "said once, however many reloads");

  const idle = table(config, { onDemandAbove: 0, previous: next, version: 3, onDemandIdleMs: -1 });
  assert.equal(idle.outbound.onDemand!.compiled().map((c) => c.host), ["*.example.com"], "idle hosts stay behind");
});

test.run();
