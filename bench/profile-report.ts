// The report of bench/profile.sh for one profiled process: JavaScriptCore's JITDump (what code the
// JIT made, where, under which JavaScript name) becomes the perf map perf reads for unnamed
// executable memory (/tmp/perf-<pid>.map), then `perf script` gives every sample's call chain. The
// main thread's samples are counted by where they landed — the kernel, the runtime's own code
// (bun.exe), JIT-compiled JavaScript, libc — as µs of CPU per request (samples ÷ frequency ÷
// requests). The runtime's and libc's samples are also charged to the nearest JavaScript frame of
// their chain: what a JavaScript function costs in the engine beneath it (allocation slow paths,
// string and typed-array operations, host calls such as a socket write). A chain with no JavaScript
// frame is the event loop, TLS records, the collector, or a chain perf could not unwind.
// Usage: bun bench/profile-report.ts --data perf.data --jit DIR --requests N [--frequency 999] [--top 25]
import { parseArgs } from "node:util";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** JITDump (the Linux perf format: a header, then records; a code-load record names one piece of code) → perf map lines */
export function perfMap(dump: Uint8Array): string {
  const view = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
  const CODE_LOAD = 0;
  const decoder = new TextDecoder();
  let at = view.getUint32(8, true); // the header's own size
  let out = "";
  while (at + 16 <= dump.byteLength) {
    const id = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    if (size === 0) break;
    if (id === CODE_LOAD) {
      // after id, size, timestamp: pid, tid (u32), vma, code address, code size, code index (u64), then the name
      const address = view.getBigUint64(at + 16 + 16, true);
      const length = view.getBigUint64(at + 16 + 24, true);
      const nameAt = at + 16 + 40;
      const nameEnd = dump.indexOf(0, nameAt);
      out += `${address.toString(16)} ${length.toString(16)} ${decoder.decode(dump.subarray(nameAt, nameEnd))}\n`;
    }
    at += size;
  }
  return out;
}

export type Where = "kernel" | "runtime" | "JavaScript (JIT)" | "libc" | "other";
export const WHERE: readonly Where[] = ["kernel", "runtime", "JavaScript (JIT)", "libc", "other"];

function where(dso: string): Where {
  if (dso.includes("kernel")) return "kernel";
  if (dso.endsWith("bun.exe") || dso.endsWith("/bun")) return "runtime";
  if (dso.startsWith("/tmp/perf-") || dso.startsWith("[JIT]")) return "JavaScript (JIT)";
  if (dso.includes("libc.so")) return "libc";
  return "other";
}

/** "JSC-FTL: parseHead#AsCyQd" → "parseHead (FTL)" */
function jsName(symbol: string): string {
  const m = /^JSC-([^:]+): ([^#]*)/.exec(symbol);
  return m ? `${m[2] || "(anonymous)"} (${m[1]})` : symbol;
}

export interface Profile {
  /** µs of the main thread's CPU per request, and of the other threads' */
  main: number;
  otherThreads: number;
  /** the main thread's µs per request by where its samples landed */
  byWhere: Record<Where, number>;
  /** per JavaScript function: µs in its JIT code, and µs of runtime and libc beneath it; most first */
  functions: { name: string; self: number; beneath: number }[];
}

/**
 * Counts `perf script -F comm,tid,ip,sym,dso` output (a "comm tid" line per sample, a line per frame,
 * a blank line) for the thread pid (the main thread: its tid is the process id), as µs per request.
 */
export function summarize(script: string, pid: string, frequency: number, requests: number): Profile {
  const us = (n: number) => (n / frequency / requests) * 1e6;
  const byWhere = new Map<Where, number>();
  const self = new Map<string, number>();
  const beneath = new Map<string, number>();
  let mainSamples = 0;
  let otherSamples = 0;
  const add = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  let tid = "";
  let frames: { symbol: string; dso: string }[] = [];
  const sample = () => {
    if (frames.length === 0) return;
    if (tid !== pid) otherSamples++;
    else {
      mainSamples++;
      const w = where(frames[0].dso);
      add(byWhere, w);
      if (w === "JavaScript (JIT)") add(self, jsName(frames[0].symbol));
      else if (w === "runtime" || w === "libc") {
        const js = frames.find((f) => where(f.dso) === "JavaScript (JIT)");
        add(beneath, js ? jsName(js.symbol) : "(no JavaScript frame)");
      }
    }
    frames = [];
  };
  for (const line of script.split("\n")) {
    if (line.startsWith("\t")) {
      const text = line.trim();
      const open = text.lastIndexOf(" (");
      frames.push({ symbol: text.slice(text.indexOf(" ") + 1, open), dso: text.slice(open + 2, -1) });
    } else if (line.trim() === "") sample();
    else {
      sample();
      tid = line.trim().split(/\s+/).pop()!;
    }
  }
  sample();
  const functions = [...new Set([...self.keys(), ...beneath.keys()])]
    .map((name) => ({ name, self: us(self.get(name) ?? 0), beneath: us(beneath.get(name) ?? 0) }))
    .sort((x, y) => y.self + y.beneath - (x.self + x.beneath));
  return {
    main: us(mainSamples),
    otherThreads: us(otherSamples),
    byWhere: Object.fromEntries(WHERE.map((w) => [w, us(byWhere.get(w) ?? 0)])) as Record<Where, number>,
    functions,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      data: { type: "string" },
      jit: { type: "string" },
      requests: { type: "string" },
      frequency: { type: "string", default: "999" },
      top: { type: "string", default: "25" },
    },
  });
  if (!values.data || !values.jit || !values.requests) throw new Error("--data, --jit and --requests are required");
  const dumpFile = readdirSync(values.jit).find((f) => f.startsWith("jit-") && f.endsWith(".dump"));
  if (!dumpFile) throw new Error(`no JITDump in ${values.jit}`);
  const pid = dumpFile.slice(0, -5).split("-").pop()!; // jit-<…>-<pid>.dump
  const mapFile = `/tmp/perf-${pid}.map`; // where perf looks for the names of unnamed executable memory
  writeFileSync(mapFile, perfMap(readFileSync(`${values.jit}/${dumpFile}`)));
  const script = spawnSync("perf", ["script", "-i", values.data, "-F", "comm,tid,ip,sym,dso"], { maxBuffer: 1 << 30, encoding: "latin1" });
  rmSync(mapFile, { force: true });
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`);
  const profile = summarize(script.stdout, pid, Number(values.frequency), Number(values.requests));
  const f = (n: number) => n.toFixed(2).padStart(7);
  console.log(`main thread ${f(profile.main)} µs/request (other threads ${f(profile.otherThreads).trim()})`);
  for (const w of WHERE) console.log(`  ${f(profile.byWhere[w])}  ${w}`);
  console.log("  JavaScript functions (JIT self, runtime + libc beneath), µs/request:");
  for (const r of profile.functions.slice(0, Number(values.top))) console.log(`  ${f(r.self)} ${f(r.beneath)}  ${r.name}`);
}
