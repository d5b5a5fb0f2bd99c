// loadConfig (runtime/config/load.ts, the one loader) run in a short-lived Web Worker: the proxy
// hands it the paths, the default namespace and any registry resources, and gets back the same
// LoadResult — errors with file, resource and field path unchanged — as structured-cloned data,
// frozen again here as load.ts freezes it. zod, yaml and the schemas (~11–12 MB) live only as long
// as one load; a reload costs one worker start instead (~50–300 ms on a busy machine).
// On Deno the load stays in process by default: measured, a Deno process keeps the memory of
// the modules a worker loaded after the worker ends (~21 MB for this one, as much as loading them
// in process), so the worker would only add latency there.
// incrementalConfigLoader is what config watching uses (issue 11): it keeps each file's entries and
// sends only the files whose text changed to the worker, so a one-file change in a mesh of 10,000
// services parses one file, and unchanged resources stay the same objects from one config to the next.
import { callWorker, startWorker, type StartedWorker } from "../lib/worker-call.ts";
import { platform } from "../platform/index.ts";
import { systemClock, type Clock, type TimerHandle } from "../lib/clock.ts";
import { assembleConfig, deepFreeze, readFailure, type FileEntry, type LoadResult } from "../config/assemble.ts";
import { collectFiles, readFromFiles, type FilesRead } from "../config/files.ts";
import { resourceIO } from "../model/registry-resources.ts";
import type { LoadRequest, ParseRequest, ParsedFile } from "./config-load-task.ts";

// in the single executable, the entry embedded beside the CLI (scripts/build-exe.mjs)
const ENTRY = platform.embeddedModule("discovery/config-worker-main.ts") ?? new URL("./config-worker-main.ts", import.meta.url);
const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };

export interface WorkerLoadOptions {
  defaultNamespace: string;
  /** registry resources presented as files (registry-resources.ts); the worker reads the rest from disk */
  extra?: ReadonlyMap<string, string>;
  /** run in a worker (default: on Bun only, see above) */
  worker?: boolean;
}

const useWorker = (worker: boolean | undefined) => worker ?? platform.name === "bun";

export async function loadConfigInWorker(paths: string[], options: WorkerLoadOptions): Promise<LoadResult> {
  const request: LoadRequest = { paths, defaultNamespace: options.defaultNamespace, extra: [...(options.extra ?? new Map())] };
  const inProcess = async (r: LoadRequest) => (await import("./config-load-task.ts")).runLoad(r);
  if (!useWorker(options.worker)) return deepFreeze(await inProcess(request));
  return deepFreeze(await callWorker<LoadRequest, LoadResult>(ENTRY, request, inProcess));
}

type ParseWorker = StartedWorker<ParseRequest, ParsedFile[] | FileEntry[][]>;

/**
 * files' texts → their entries, in the worker (`started` if one was started ahead, else a new one;
 * or in process, as above). `fellBack` is called when a worker was wanted and could not start.
 */
async function parseFiles(request: ParseRequest, worker: boolean | undefined, started: ParseWorker | undefined, entry: URL, fellBack: () => void): Promise<FileEntry[][]> {
  const inProcess = async (r: ParseRequest) => (await import("./config-load-task.ts")).runParse(r);
  if (!useWorker(worker)) return inProcess(request);
  const fallback = (r: ParseRequest) => {
    fellBack();
    return inProcess(r);
  };
  // the worker answers mostly JSON texts (config-load-task.ts ParsedFile); decoding is cheaper than cloning objects
  const answer = await (started ?? startWorker<ParseRequest, ParsedFile[] | FileEntry[][]>(entry)).call(request, fallback);
  // (decoded here, not by importing config-load-task.ts: that would load zod and yaml in the proxy)
  return answer.map((f) => ("json" in f ? (JSON.parse(f.json) as FileEntry[]) : f));
}

/**
 * A changed file's new entries, each replaced by the kept entry it equals (the same resource,
 * origin and messages): a resource a file change did not touch stays the same object, so what is
 * built from it — the registry's services, compiled hosts — is kept too (config-watch.ts and
 * model/on-demand.ts compare by identity). Entries are plain JSON-exact data (config-load-task.ts).
 */
function keepUnchanged(before: readonly FileEntry[] | undefined, after: FileEntry[]): FileEntry[] {
  if (!before?.length) return after;
  const old = new Map<string, FileEntry>();
  for (const entry of before) old.set(JSON.stringify(entry), entry);
  return after.map((entry) => old.get(JSON.stringify(entry)) ?? entry);
}

export interface IncrementalLoader {
  /**
   * the same LoadResult as loadConfigInWorker(paths, { extra }); with `read` (the watcher's
   * confirmed read of the files), the files' texts come from it instead of from the disk again
   */
  load(paths: string[], extra?: ReadonlyMap<string, string>, read?: FilesRead): Promise<LoadResult>;
  /**
   * parses the files that changed now, ahead of a load that may come (the watcher's first read of
   * a change, while it waits to see the files settle): that load then finds them parsed
   */
  warm(paths: string[], read?: FilesRead): Promise<void>;
  /**
   * starts the worker the next parse will use, if none waits yet (config-watch calls this after
   * each file change, so the next change in a burst does not wait for a worker's imports); it is
   * ended if no parse took it within spareMs. Nothing where parsing runs in process.
   */
  prestart(): void;
  /** whether a worker started ahead waits for the next parse */
  spareWaiting(): boolean;
  /** ends a worker started ahead; prestart does nothing after this */
  close(): void;
  /** what the last load did: files parsed anew, files whose kept entries were reused */
  readonly last: { parsed: number; reused: number };
}

/**
 * how long a worker started after a change waits for the next change before it is ended: changes
 * within that time do not wait for a worker's imports (~220 ms of Bun's ~400 ms worker start at
 * 10,000 services). Its memory (~7–10 MB RSS measured, docs/performance.md) lasts that long.
 */
export const DEFAULT_SPARE_MS = 30_000;

/** what a load keeps of each file: a digest of its text (the text itself would be the config's size again) and its entries */
type Kept = Map<string, { digest: string; entries: readonly FileEntry[] }>;

/**
 * A file text's length and two independent 32-bit FNV-1a-style hashes of its UTF-16 units: a
 * change is missed only if all three collide (~2^-64 per change). Keeping every file's text to
 * compare instead cost 7.4 MB of heap at 10,000 services; this reads 7.4 MB in ~15 ms.
 */
export function textDigest(text: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${text.length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
}

/**
 * A loader that remembers each file's text (as a digest) and entries: a load reads every file (cheap: 7 MB in
 * ~50 ms at 10,000 services) but parses and validates only those whose text differs from what it
 * kept, then assembles all of them (duplicates across files, per-kind notices) in this process.
 * Loads and warms run one at a time, so each sees the texts and entries it read.
 */
export function incrementalConfigLoader(options: {
  defaultNamespace: string;
  worker?: boolean;
  spareMs?: number;
  clock?: Clock;
  /** where a warning goes when a worker cannot start */
  log?: (message: string) => void;
  /** the worker's module (tests: one that cannot start) */
  entry?: URL;
}): IncrementalLoader {
  const entry = options.entry ?? ENTRY;
  let kept: Kept = new Map();
  // said once: the process still serves, but holds the parser's memory the worker exists to spare
  let warned = false;
  const fellBack = () => {
    if (warned) return;
    warned = true;
    options.log?.(`config worker could not start (${entry.href}): config files are parsed in this process, which then keeps the YAML parser and the schemas in memory`);
  };
  const last = { parsed: 0, reused: 0 };
  const spareMs = options.spareMs ?? DEFAULT_SPARE_MS;
  const clock = options.clock ?? systemClock;
  let spare: { worker: ParseWorker; timer: TimerHandle } | undefined;
  let closed = false;
  function prestart() {
    if (closed || !useWorker(options.worker) || spareMs <= 0) return;
    if (spare) clock.clearTimeout(spare.timer);
    const worker = spare?.worker ?? startWorker<ParseRequest, ParsedFile[] | FileEntry[][]>(entry);
    const timer = clock.setTimeout(() => {
      if (spare?.worker !== worker) return;
      spare = undefined;
      worker.end();
    }, spareMs);
    spare = { worker, timer };
  }
  /** the worker started ahead, now taken by a parse */
  function takeSpare(): ParseWorker | undefined {
    const taken = spare;
    spare = undefined;
    if (taken) clock.clearTimeout(taken.timer);
    return taken?.worker;
  }
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  /**
   * reads the files, parses the changed ones; returns per file its text (or, for a file the read
   * found left alone since, the kept digest) and entries, or the read error
   */
  async function refresh(paths: string[], extra: ReadonlyMap<string, string>, read: FilesRead | undefined) {
    const fileIO = resourceIO(read ? readFromFiles(read, io) : io, extra);
    const collected = await collectFiles(paths, fileIO, false);
    type Got = { text: string; digest: string } | { kept: { digest: string; entries: readonly FileEntry[] } } | { error: unknown };
    const got: Got[] = await Promise.all(
      collected.files.map((file): Promise<Got> => {
        const left = read?.unchanged?.has(file) ? kept.get(file) : undefined;
        if (left) return Promise.resolve({ kept: left });
        return fileIO.readTextFile(file).then((text) => ({ text, digest: textDigest(text) }), (error: unknown) => ({ error }));
      }),
    );
    const changed: [string, string][] = [];
    collected.files.forEach((file, i) => {
      const g = got[i];
      if ("text" in g && kept.get(file)?.digest !== g.digest) changed.push([file, g.text]);
    });
    const parsed = changed.length ? await parseFiles({ defaultNamespace: options.defaultNamespace, files: changed }, options.worker, takeSpare(), entry, fellBack) : [];
    const fresh = new Map(changed.map(([file], i) => [file, deepFreeze(keepUnchanged(kept.get(file)?.entries, parsed[i]))] as const));
    const perFile = collected.files.map((file, i) => {
      const g = got[i];
      if ("error" in g) return { file, failure: g.error, ok: false as const };
      if ("kept" in g) return { file, ok: true as const, digest: g.kept.digest, entries: g.kept.entries };
      return { file, ok: true as const, digest: g.digest, entries: fresh.get(file) ?? kept.get(file)!.entries };
    });
    return { collected, perFile, parsed: changed.length };
  }

  return {
    last,
    prestart,
    spareWaiting: () => spare !== undefined,
    close() {
      closed = true;
      takeSpare()?.end();
    },
    warm: (paths, read) =>
      serial(async () => {
        const { perFile } = await refresh(paths, new Map(), read);
        for (const f of perFile) if (f.ok) kept.set(f.file, { digest: f.digest, entries: f.entries });
      }).catch(() => undefined), // only a head start: the load that follows reports any trouble
    load: (paths, extra = new Map(), read) =>
      serial(async () => {
        const { collected, perFile, parsed } = await refresh(paths, extra, read);
        const next: Kept = new Map();
        for (const f of perFile) if (f.ok) next.set(f.file, { digest: f.digest, entries: f.entries });
        kept = next; // files gone from the config are forgotten
        last.parsed = parsed;
        last.reused = collected.files.length - parsed;
        return deepFreeze(assembleConfig(collected, perFile.map((f) => (f.ok ? f.entries : readFailure(f.file, f.failure)))));
      }),
  };
}
