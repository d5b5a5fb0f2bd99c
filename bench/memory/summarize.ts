// Tables from bench/memory/run.sh's results.jsonl: one row per (scenario, mode, proxy, phase) with
// RSS split into anonymous and file-backed pages, the JS heap before and after a full GC, native
// allocator or V8 new-space figures, the peak (VmHWM), and the wrk req/s of that run. With several
// repeats, each cell is "min–max". Usage: bun bench/memory/summarize.ts DIR/results.jsonl [--phases a,b]
import { readFileSync } from "node:fs";

const [file, ...rest] = process.argv.slice(2);
const phases = rest[0] === "--phases" ? rest[1].split(",") : undefined;
type Sample = Record<string, number | Record<string, number>>;
interface Row { scenario: string; mode: string; proxy: string; phase: string; rps?: number; cpu_us_per_req?: number; sample: { before: Sample; after: Sample } }
const rows: Row[] = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

const mb = (b: number) => b / 1048576;
const cols: [string, (r: Row) => number | undefined][] = [
  ["RSS", (r) => (r.sample.before.VmRSS as number) / 1024],
  ["anon", (r) => (r.sample.before.RssAnon as number) / 1024],
  ["file", (r) => (r.sample.before.RssFile as number) / 1024],
  ["PSS", (r) => (r.sample.before.Pss as number) / 1024], // shared pages split among their users
  ["heap used", (r) => mb(r.sample.before.heapUsed as number)],
  ["heap total", (r) => mb(r.sample.before.heapTotal as number)],
  ["external", (r) => mb(r.sample.before.external as number)],
  ["native", (r) => { // Bun: mimalloc committed; Deno: V8 new space (the young generation)
    const b = r.sample.before;
    return b.mallocCommit !== undefined ? mb(b.mallocCommit as number) : mb((b.spaces as Record<string, number>)?.new_space ?? NaN);
  }],
  ["RSS after GC", (r) => (r.sample.after.VmRSS as number) / 1024],
  ["heap after GC", (r) => mb(r.sample.after.heapUsed as number)],
  ["peak", (r) => (r.sample.after.VmHWM as number) / 1024],
];
const key = (r: Row) => `${r.scenario}\t${r.mode}\t${r.proxy}\t${r.phase}`;
const groups = new Map<string, Row[]>();
for (const r of rows) if (!phases || phases.includes(r.phase)) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
const rps = new Map<string, number[]>();
const cpu = new Map<string, number[]>(); // proxy CPU µs per request (both proxies of the mTLS pair)
for (const r of rows) if (r.rps !== undefined && r.proxy !== "b") {
  const k = `${r.scenario}\t${r.mode}`;
  rps.set(k, [...(rps.get(k) ?? []), r.rps]);
  if (r.cpu_us_per_req) cpu.set(k, [...(cpu.get(k) ?? []), r.cpu_us_per_req]);
}

const range = (xs: number[], digits = 1) => {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (!ok.length) return "–";
  const lo = Math.min(...ok), hi = Math.max(...ok);
  return lo.toFixed(digits) === hi.toFixed(digits) ? lo.toFixed(digits) : `${lo.toFixed(digits)}–${hi.toFixed(digits)}`;
};
console.log(`| scenario | mode | proxy | phase | ${cols.map((c) => c[0]).join(" | ")} | req/s | CPU µs/req |`);
console.log(`|${"---|".repeat(cols.length + 6)}`);
for (const [k, rs] of groups) {
  const [scenario, mode] = k.split("\t");
  const load = rs[0].phase === "load";
  const rate = load ? range(rps.get(`${scenario}\t${mode}`) ?? [], 0) : "";
  const us = load ? range(cpu.get(`${scenario}\t${mode}`) ?? [], 0) : "";
  console.log(`| ${k.split("\t").join(" | ")} | ${cols.map(([, f]) => range(rs.map((r) => f(r) ?? NaN))).join(" | ")} | ${rate} | ${us} |`);
}
