// loadConfig (runtime/config/load.ts, the one loader) run in a short-lived Web Worker: the proxy
// hands it the paths, the default namespace and any registry resources, and gets back the same
// LoadResult — errors with file, resource and field path unchanged — as structured-cloned data,
// frozen again here as load.ts freezes it. zod, yaml and the schemas (~11–12 MB) live only as long
// as one load; a reload costs one worker start instead (~50–300 ms on a busy machine).
// On Deno the load stays in process by default: measured, a Deno process keeps the memory of
// the modules a worker loaded after the worker ends (~21 MB for this one, as much as loading them
// in process), so the worker would only add latency there.
import { callWorker } from "../lib/worker-call.ts";
import { platform } from "../platform/index.ts";
import type { LoadResult } from "../config/load.ts";
import type { LoadRequest } from "./config-load-task.ts";

const ENTRY = new URL("./config-worker-main.ts", import.meta.url);

export interface WorkerLoadOptions {
  defaultNamespace: string;
  /** registry resources presented as files (registry-resources.ts); the worker reads the rest from disk */
  extra?: ReadonlyMap<string, string>;
  /** run in a worker (default: on Bun only, see above) */
  worker?: boolean;
}

export async function loadConfigInWorker(paths: string[], options: WorkerLoadOptions): Promise<LoadResult> {
  const request: LoadRequest = { paths, defaultNamespace: options.defaultNamespace, extra: [...(options.extra ?? new Map())] };
  const inProcess = async (r: LoadRequest) => (await import("./config-load-task.ts")).runLoad(r);
  if (!(options.worker ?? platform.name === "bun")) return freeze(await inProcess(request));
  return freeze(await callWorker<LoadRequest, LoadResult>(ENTRY, request, inProcess));
}

/** as load.ts's deepFreeze (not imported: that module is the one this keeps out of the proxy) */
function freeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}
