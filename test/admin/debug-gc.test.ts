// DIETMESH_DEBUG_GC (leak hunting, docs/performance.md "Soak"): POST /debug/gc exists on the admin
// port only when the switch is set, and answers with what survived a full collection — on Bun the
// live objects by type, on Deno V8's heap figures (a forced collection needs --expose-gc there).
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { createAdminApp } from "../../runtime/admin/admin.ts";
import type { RouteTable, TableRef } from "../../runtime/model/route-table.ts";
import { platform } from "../../runtime/platform/index.ts";

const options = { table: { current: {} as RouteTable } as TableRef, ready: () => true, describe: () => ({}), quit: () => {} };

test("without DIETMESH_DEBUG_GC there is no /debug/gc", async () => {
  delete process.env.DIETMESH_DEBUG_GC;
  const r = await createAdminApp(options).request("/debug/gc", { method: "POST" });
  assert.is(r.status, 404);
});

test("with DIETMESH_DEBUG_GC=1, POST /debug/gc collects and reports", async () => {
  process.env.DIETMESH_DEBUG_GC = "1";
  try {
    const app = createAdminApp(options);
    // something alive across the collection, so that Bun's counts have an entry to show
    const kept = Array.from({ length: 1000 }, (_, i) => ({ i }));
    const r = await app.request("/debug/gc", { method: "POST" });
    assert.is(r.status, 200);
    const body = (await r.json()) as { collected: boolean; rss: number; heapUsed: number; objects?: Record<string, number>; heapTotal?: number };
    assert.ok(body.rss > 0 && body.heapUsed > 0, JSON.stringify(body));
    if (platform.name === "bun") {
      assert.is(body.collected, true);
      assert.ok((body.objects?.Object ?? 0) >= kept.length, `live Objects: ${body.objects?.Object}`);
    } else {
      // this test process was not started with --expose-gc
      assert.is(body.collected, typeof (globalThis as { gc?: unknown }).gc === "function");
      assert.ok(body.heapTotal! >= body.heapUsed);
    }
    assert.is(kept.length, 1000);
  } finally {
    delete process.env.DIETMESH_DEBUG_GC;
  }
});

test.run();
