// What importing one thing costs: `bun bench/memory/imports.ts <what>` (or `deno run -A
// --v8-flags=--expose-gc bench/memory/imports.ts <what>`) imports it, collects garbage and prints one
// JSON line with RSS (split into anonymous and file-backed pages) and the JS heap. <what> is "none"
// (the bare runtime), an npm package name, or a path under the repo (the sidecar's module graph is
// runtime/cli/sidecar.ts: everything `dietmesh sidecar` loads before it runs).
import { readFileSync } from "node:fs";

const what = process.argv[2] ?? (globalThis as unknown as { Deno?: { args: string[] } }).Deno?.args[0] ?? "none";
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const gc = () => (isBun ? (globalThis as unknown as { Bun: { gc(f: boolean): void } }).Bun.gc(true) : (globalThis as { gc?: () => void }).gc?.());

const t0 = performance.now();
if (what !== "none") await import(what.includes("/") && !what.startsWith("@") ? new URL(`../../${what}`, import.meta.url).href : what);
const importMs = performance.now() - t0;
gc();
const status = readFileSync("/proc/self/status", "utf8");
const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)?.[1]);
const mu = process.memoryUsage();
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
console.log(JSON.stringify({ what, runtime: isBun ? "bun" : "deno", importMs: Math.round(importMs), rssMB: mb(kb("VmRSS") * 1024), anonMB: mb(kb("RssAnon") * 1024), fileMB: mb(kb("RssFile") * 1024), heapUsedMB: mb(mu.heapUsed), heapTotalMB: mb(mu.heapTotal), externalMB: mb(mu.external) }));
