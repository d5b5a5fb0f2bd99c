// A reload must not keep the table it replaced alive: over a soak's hundreds of reloads, a chain
// of tables each holding the one before grows the heap without bound (issue 15's RSS growth; a
// closure in on-demand.ts once held `previous`). Each test compiles tables as config watching
// does — the next from the current one — keeps only a WeakRef to the first and checks a full GC
// frees it, for a sidecar compiling at once and one compiling on first use. The first table's
// registry snapshot must go too: a host carried to the next table keeps its routes, and a route
// closure made where the compile context is in scope once kept that snapshot (issue 11: +16 MB
// of heap at 10,000 services).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type CompileOptions } from "../../runtime/model/compile.ts";
import { findVirtualHost, type RouteTable } from "../../runtime/model/route-table.ts";
import { memoryIO } from "../config/memory-io.ts";
import { collected } from "../support/gc.ts";

const service = (i: number, weight: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [svc-${i}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.${i}.1, labels: { version: v1 } }, { address: 10.0.${i}.2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
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
  http: [{ route: [{ destination: { host: svc-${i}, subset: v1 }, weight: ${weight} }, { destination: { host: svc-${i}, subset: v2 }, weight: ${100 - weight} }] }]
`;

const proxy = { kind: "sidecar" as const, namespace: "default", labels: { app: "web" } };

/** reload i: svc-0's weights change every time (compiled anew), the others' never (shared on demand) */
async function reload(i: number, options: Partial<CompileOptions>, previous?: RouteTable): Promise<RouteTable> {
  const files = { "mesh/a.yaml": Array.from({ length: 4 }, (_, s) => service(s, s === 0 ? 10 + (i % 80) : 50)).join("---\n") };
  const result = await loadConfig(["mesh"], { defaultNamespace: "default", ...memoryIO(files) });
  assert.ok(result.config, JSON.stringify(result.errors));
  const snapshot = snapshotFromConfig(result.config.serviceEntries, result.config.workloadEntries);
  const table = compile(result.config, snapshot, proxy, { random: () => 0.5, version: i, previous, ...options });
  // a request for every host, so that on demand they are compiled and carried to the next table
  for (let s = 0; s < 4; s++) assert.ok(findVirtualHost(table.outbound, `svc-${s}`), `svc-${s} in table ${i}`);
  return table;
}

/** the first table and its outbound route config (what a later table may reach into) are both freed */
async function firstTableFreed(options: Partial<CompileOptions>): Promise<boolean> {
  let current = await reload(0, options);
  const first = [new WeakRef(current), new WeakRef(current.outbound), new WeakRef(current.snapshot), new WeakRef(current.snapshot.services)];
  for (let i = 1; i <= 5; i++) current = await reload(i, options, current);
  assert.is(current.version, 5);
  for (const ref of first) if (!(await collected(ref))) return false;
  return true;
}

test("compiled at once: a table five reloads old is collectable", async () => {
  assert.ok(await firstTableFreed({}), "the first table is still reachable after five reloads");
});

test("compiled on first use: a table five reloads old is collectable, though its unchanged hosts were shared", async () => {
  assert.ok(await firstTableFreed({ onDemandAbove: 0 }), "the first table is still reachable after five reloads");
});

test("compiled on first use: hosts shared from table to table do not keep the first table's registry snapshot", async () => {
  // as config watching does on a reload that re-reads no changed resource: the same config
  // objects (the incremental loader keeps them), a snapshot rebuilt, every host shared
  const files = { "mesh/a.yaml": Array.from({ length: 4 }, (_, s) => service(s, 50)).join("---\n") + "---\n" + service(9, 50).split("---\n")[0] };
  const result = await loadConfig(["mesh"], { defaultNamespace: "default", ...memoryIO(files) });
  assert.ok(result.config, JSON.stringify(result.errors));
  const config = result.config;
  let current: RouteTable | undefined;
  const first: WeakRef<object>[] = [];
  for (let i = 0; i <= 5; i++) {
    const snapshot = snapshotFromConfig(config.serviceEntries, config.workloadEntries);
    current = compile(config, snapshot, proxy, { random: () => 0.5, version: i, previous: current, onDemandAbove: 0 });
    // svc-0..3 through their VirtualServices, svc-9 through its default routes
    for (const s of [0, 1, 2, 3, 9]) assert.ok(findVirtualHost(current.outbound, `svc-${s}.default.svc.cluster.local`), `svc-${s} in table ${i}`);
    if (i === 0) first.push(new WeakRef(snapshot), new WeakRef(snapshot.services));
  }
  const compiled = (current!.outbound.onDemand as { compiled(): { why: string }[] }).compiled();
  assert.ok(compiled.length >= 5 && compiled.every((c) => c.why.endsWith("shared with the previous table")), JSON.stringify(compiled));
  for (const ref of first) assert.ok(await collected(ref), "the first snapshot is still reachable through a shared host");
});

test("the check can fail: a table still referenced is not collected", async () => {
  const kept = await reload(0, {});
  assert.not.ok(await collected(new WeakRef(kept)));
  assert.is(kept.version, 0);
});

test.run();
