// What config-worker.ts runs in a short-lived worker, so that zod, yaml and the schemas are never
// loaded by a serving proxy: a whole load of the config loader (runtime/config/load.ts) on files
// plus in-memory registry resources, or — for incremental reloads — only the given files' texts
// parsed and validated into their entries (assemble.ts puts them together in the proxy). Either
// answer survives structured cloning.
import { loadConfig, loadFileEntries, type LoadResult } from "../config/load.ts";
import type { FileEntry } from "../config/assemble.ts";
import { resourceIO } from "../model/registry-resources.ts";
import { platform } from "../platform/index.ts";

export interface LoadRequest {
  paths: string[];
  defaultNamespace: string;
  /** registry resources as files: path → text (registry-resources.ts's resourceIO) */
  extra: [string, string][];
}

export interface ParseRequest {
  defaultNamespace: string;
  /** path → text of each file to parse; the answer has one entry list per file, in this order */
  files: [string, string][];
}

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };

export async function runLoad(request: LoadRequest): Promise<LoadResult> {
  const result = await loadConfig(request.paths, { defaultNamespace: request.defaultNamespace, ...resourceIO(io, new Map(request.extra)) });
  return clonable(result) as LoadResult;
}

/**
 * One file's entries as they leave the worker: JSON text when JSON carries them exactly (no
 * undefined, non-finite number, -0 or bigint anywhere), which costs about a third of structured
 * cloning (10,000 services: ~130 ms against ~430 ms on Bun); the objects otherwise.
 */
export type ParsedFile = FileEntry[] | { json: string };

export function runParse(request: ParseRequest): Promise<FileEntry[][]>;
export function runParse(request: ParseRequest, encode: true): Promise<ParsedFile[]>;
export async function runParse(request: ParseRequest, encode = false): Promise<ParsedFile[]> {
  const out: ParsedFile[] = [];
  for (const [file, text] of request.files) {
    const exact = { json: true };
    const entries = clonable(await loadFileEntries(file, text, request.defaultNamespace), "config", exact) as FileEntry[];
    out.push(encode && exact.json ? { json: JSON.stringify(entries) } : entries);
  }
  return out;
}

/** the worker's one handler: a parse request names files with their texts, a load request paths */
export async function runTask(request: LoadRequest | ParseRequest): Promise<LoadResult | ParsedFile[]> {
  return "files" in request ? await runParse(request, true) : await runLoad(request);
}

/**
 * The loaded config is plain data today (load.ts strips the schemas' UNSUPPORTED symbol), but a
 * symbol or function left by a future schema would make postMessage throw. Symbol values are
 * dropped here as load.ts drops UNSUPPORTED (the field is absent); a function is a bug and throws.
 */
export function clonable(value: unknown, path = "config", exact?: { json: boolean }): unknown {
  if (typeof value === "function") throw new Error(`${path}: a function cannot leave the config worker`);
  if (typeof value !== "object" || value === null) {
    // what JSON would change: exact.json turns false (runParse then sends the objects)
    if (exact && (value === undefined || typeof value === "bigint" || (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))))) exact.json = false;
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => clonable(v, `${path}[${i}]`, exact));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v !== "symbol") out[key] = clonable(v, `${path}.${key}`, exact);
  return out;
}
