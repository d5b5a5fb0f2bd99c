// Memory probe, preloaded into a dietmesh process by bench/memory/run.sh (`bun --preload` /
// `deno run --preload`): it changes nothing in the product, it only answers SIGUSR2 by appending one
// JSON line to $DIETMESH_MEM_OUT with the process's memory as the runtime and the kernel see it,
// before and after a full GC, so a driver can read each phase (idle, under load, after) from outside.
// If the file "$DIETMESH_MEM_OUT.snap" exists at that moment, it also writes a V8-format heap
// snapshot next to it (bench/memory/snapshot-top.ts ranks its contents).
// DIETMESH_MEM_TLS_LOW=1 (Bun only) adds `lowMemoryMode: true` to every TLS config given to
// Bun.listen / Bun.connect, to measure that mode without editing runtime/.
import { existsSync, appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const out = process.env.DIETMESH_MEM_OUT;
let shots = 0;

function kernel(): Record<string, number> {
  // kB figures: RssAnon is the heaps and malloc; RssFile is the runtime binary's pages and mapped files
  const status = readFileSync("/proc/self/status", "utf8");
  const pick = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  // Pss splits shared pages (the runtime binary, shared by every sidecar on a node) among their users
  const rollup = readFileSync("/proc/self/smaps_rollup", "utf8");
  const roll = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? NaN);
  return { VmRSS: pick("VmRSS"), VmHWM: pick("VmHWM"), RssAnon: pick("RssAnon"), RssFile: pick("RssFile"), Pss: roll("Pss"), Pss_File: roll("Pss_File"), Threads: pick("Threads") };
}

async function runtimeStats(): Promise<Record<string, unknown>> {
  const mu = process.memoryUsage();
  const base: Record<string, unknown> = { rss: mu.rss, heapTotal: mu.heapTotal, heapUsed: mu.heapUsed, external: mu.external, arrayBuffers: mu.arrayBuffers };
  if (isBun) {
    const jsc = await import("bun:jsc");
    const h = jsc.heapStats();
    const types = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 12);
    const m = jsc.memoryUsage(); // mimalloc: everything Bun allocates natively goes through it
    Object.assign(base, { jscHeapSize: h.heapSize, jscHeapCapacity: h.heapCapacity, jscExtra: h.extraMemorySize, objectCount: h.objectCount, topTypes: types, mallocCurrent: m.current, mallocCommit: m.currentCommit, mallocPeakCommit: m.peakCommit });
  } else {
    const v8 = await import("node:v8");
    const s = v8.getHeapStatistics();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().filter((x) => x.physical_space_size > 0).map((x) => [x.space_name, x.physical_space_size]));
    Object.assign(base, { v8Physical: s.total_physical_size, v8Used: s.used_heap_size, v8Malloced: s.malloced_memory, v8External: s.external_memory, spaces });
  }
  return base;
}

function gc(): void {
  if (isBun) (globalThis as unknown as { Bun: { gc(full: boolean): void } }).Bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.(); // needs --v8-flags=--expose-gc
}

async function snapshot(path: string): Promise<void> {
  if (isBun) writeFileSync(path, (globalThis as unknown as { Bun: { generateHeapSnapshot(f: "v8"): string } }).Bun.generateHeapSnapshot("v8"));
  else (await import("node:v8")).writeHeapSnapshot(path);
}

async function report(): Promise<void> {
  if (!out) return;
  const before = { ...kernel(), ...(await runtimeStats()) };
  gc();
  const after = { ...kernel(), ...(await runtimeStats()) };
  let snap: string | undefined;
  if (existsSync(`${out}.snap`)) {
    rmSync(`${out}.snap`);
    snap = `${out}.${++shots}.heapsnapshot`;
    await snapshot(snap);
  }
  appendFileSync(out, JSON.stringify({ t: Date.now(), before, after, snap }) + "\n");
}

if (isBun) process.on("SIGUSR2", () => void report());
else (globalThis as unknown as { Deno: { addSignalListener(s: string, f: () => void): void } }).Deno.addSignalListener("SIGUSR2", () => void report());

if (isBun && process.env.DIETMESH_MEM_TLS_LOW === "1") {
  const B = (globalThis as unknown as { Bun: Record<string, (o: { tls?: unknown }) => unknown> }).Bun;
  for (const name of ["listen", "connect"]) {
    const original = B[name].bind(B);
    const patched = (o: { tls?: unknown }) => original(o.tls && typeof o.tls === "object" ? { ...o, tls: { ...(o.tls as object), lowMemoryMode: true } } : o);
    B[name] = patched; // writable, though not configurable
  }
}
if (out) writeFileSync(`${out}.pid`, String(process.pid)); // the runtime's own pid, not a wrapper's
