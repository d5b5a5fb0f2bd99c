// Collects what socket reads leave behind once it shows in the process's memory. Every read hands
// the proxy a new byte array and a streamed body makes one per read for as long as it lasts; the
// arrays die young (a piece is written on and dropped within a few turns), but the runtimes free
// them late: V8 at its next scavenge, which its 16 MB new space postpones by hundreds of MB of
// arrays (only the 64 MB external-memory limit stops them), Bun when its heuristics say so.
// Measured: a 1 GiB body through a gateway peaked at 1.7-2.1x idle RSS on Deno, 1.6-1.7x on Bun, while
// the proxy itself held under 1 MB (backpressure bounds that: test/e2e/stream-backpressure.test.ts).
// So the transports count what they read in large pieces (LARGE_READ); every CHECK_BYTES of them
// the RSS is read (~25 µs), and once it is GROWTH above where it was after the last collection, the
// runtime collects: V8 a scavenge (the arrays are young), Bun a full collection (its eden
// collection measured no effect). Small requests' reads are not counted (LARGE_READ says why). A
// fast stream, or a big heap whose collection is slow, spends at most about 1/(SHARE + 1) of its
// main thread's time here (the next collection waits SHARE times as long as the last one took).
// The price: a GiB streamed at 96 MiB/s costs 0.3-2.4 s more CPU on Deno and 2-2.5 s on Bun
// (docs/performance.md, "Streaming memory (issue 15)").
// node:v8 and node:vm are taken from the runtime only when V8's collector is first needed: a static
// import of them cost Bun ~5 ms at every start (node:vm alone ~4 ms in a profile of the library's
// cold start, issue 16), and Bun never needs them.
import { LEND_AT } from "./read-buffers.ts";

/** the runtime's node:process (a global on Bun and Deno 2), typed for what is used here */
const runtimeProcess = (globalThis as unknown as { process: NodeProcess }).process;
interface NodeProcess {
  memoryUsage: { rss(): number };
  getBuiltinModule(id: "node:v8"): { setFlagsFromString(flags: string): void };
  getBuiltinModule(id: "node:vm"): { runInNewContext(code: string): unknown };
}

/** bytes read between two looks at the RSS */
export const CHECK_BYTES = 2 * 1024 * 1024;
/** RSS growth since the last collection that makes the next one */
export const GROWTH = 6 * 1024 * 1024;
/** at most one collection this often, whatever the growth */
export const MIN_GAP_MS = 100;
/** a collection that took t ms allows the next one SHARE × t ms later */
export const SHARE = 5;

export interface ReadGarbageOptions {
  /** the process's resident set size in bytes */
  rss(): number;
  /** milliseconds, monotonic */
  now(): number;
  /** the runtime's collection */
  collect(): void;
  /** reads smaller than this are not counted (default: every read counts) */
  minRead?: number;
}

/** a noteRead over the given RSS, clock and collection (tests pass fakes) */
export function readGarbage(options: ReadGarbageOptions): (n: number) => void {
  let sinceCheck = 0;
  /** RSS after the last collection (or the lowest seen); -1: read it at the next check */
  let floor = -1;
  let nextAllowed = 0;
  const minRead = options.minRead ?? 0;
  return (n) => {
    if (n < minRead) return;
    sinceCheck += n;
    if (sinceCheck < CHECK_BYTES) return;
    sinceCheck = 0;
    const rss = options.rss();
    if (floor < 0 || rss < floor) floor = rss;
    if (rss < floor + GROWTH) return;
    const start = options.now();
    if (start < nextAllowed) return;
    floor = -1;
    options.collect();
    const end = options.now();
    nextAllowed = end + Math.max(MIN_GAP_MS, (end - start) * SHARE);
  };
}

/** the runtime's collection of young garbage (exported for its test) */
export function runtimeCollector(): () => void {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (bun) return () => bun.gc(true);
  // V8 hands its gc function only to contexts made after --expose-gc is set: one new context, once
  try {
    runtimeProcess.getBuiltinModule("node:v8").setFlagsFromString("--expose-gc");
    const gc = runtimeProcess.getBuiltinModule("node:vm").runInNewContext("gc") as (options: { type: "minor" }) => void;
    if (typeof gc === "function") return () => gc({ type: "minor" });
  } catch {
    // no way to ask: the runtime collects on its own schedule
  }
  return () => {};
}

/**
 * Reads under this size are not counted towards a collection: they are a small request's (a head,
 * a short body), whose arrays die with the request's many small objects, which fill the young
 * generation and get collected with them. Counted, they made small-request load alone climb to
 * GROWTH and force a full collection on Bun (11-16 ms, every 3-4 s under wrk) for nothing a stream
 * needed (docs/performance.md, "Collections under small requests"). A streamed body is read in
 * large pieces: Bun hands up to 512 KiB per read, Deno 16-64 KiB, TLS 16 KiB records.
 */
export const LARGE_READ = LEND_AT;

let collect: (() => void) | null = null;

const note = readGarbage({
  rss: () => runtimeProcess.memoryUsage.rss(),
  now: () => performance.now(),
  collect: () => (collect ??= runtimeCollector())(),
  minRead: LARGE_READ,
});
let noted = 0;

/** a transport read n bytes (the collection is found on first use: most processes never need it) */
export function noteRead(n: number): void {
  noted += n;
  note(n);
}

/** bytes noted so far, by every transport: tests check that a transport reports its reads */
export function bytesNoted(): number {
  return noted;
}
