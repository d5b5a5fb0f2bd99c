// One request to a short-lived Web Worker and its one answer, then the worker is ended. Work that
// needs a large library now and then (validating config with zod and yaml, signing with the local
// CA's X.509 code) runs there, so the serving process never loads the library and keeps none of
// its memory. Web Workers exist on Bun and Deno alike; the answer must be structured-clonable.

/**
 * what a worker posts: "ready" once its handler is installed (a request posted earlier, while its
 * modules still load, is not reliably delivered on every runtime), then the value, or the error
 * flattened to clonable fields
 */
export type WorkerReply<T> = { ready: true } | { ok: true; value: T } | { ok: false; error: { name: string; message: string; code?: string } };

/** an error thrown inside the worker, rebuilt here with the same name, message and code */
export class WorkerError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

let fallbacks = 0;
/** how many calls were answered in process because no worker started (tests expect none) */
export const inProcessFallbacks = () => fallbacks;

/**
 * A worker started ahead of its one request: its modules load while the caller still gathers the
 * request (config-worker.ts starts one at a watcher's event, before the files are read).
 */
export interface StartedWorker<Req, Res> {
  /**
   * posts the request once the worker is ready, resolves with its answer and ends the worker; when
   * the worker could not start, `inProcess` answers. One call per worker.
   */
  call(request: Req, inProcess: (request: Req) => Promise<Res>): Promise<Res>;
  /** ends the worker unused (no effect once called) */
  end(): void;
}

export function startWorker<Req, Res>(entry: URL): StartedWorker<Req, Res> {
  let worker: Worker | undefined;
  let used = false;
  /** resolves true at "ready", false if the module failed to load (or the worker was ended unused) */
  let readied: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => (readied = resolve));
  let answered: ((reply: WorkerReply<Res>) => void) | undefined;
  let crashed: ((error: Error) => void) | undefined;
  try {
    worker = new Worker(entry.href, { type: "module" });
  } catch {
    readied(false);
  }
  const end = () => worker?.terminate();
  if (worker) {
    let isReady = false;
    worker.onmessage = (event: MessageEvent<WorkerReply<Res>>) => {
      const reply = event.data;
      if ("ready" in reply) {
        isReady = true;
        return readied(true);
      }
      end();
      answered?.(reply);
    };
    // the module failed to load (before "ready"), or threw outside the handler (after it)
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      end();
      if (!isReady) readied(false);
      else crashed?.(new Error(`worker ${entry.pathname.split("/").pop()} failed: ${event.message || "unknown error"}`));
    };
  }
  return {
    async call(request, inProcess) {
      if (used) throw new Error("a started worker answers one request");
      used = true;
      if (!(await ready)) {
        fallbacks++;
        return inProcess(request);
      }
      const reply = await new Promise<WorkerReply<Res>>((resolve, reject) => {
        answered = resolve;
        crashed = reject;
        worker!.postMessage(request);
      });
      if ("ready" in reply) throw new Error("unexpected second ready"); // never: ready comes once
      if (reply.ok) return reply.value;
      throw new WorkerError(reply.error.name, reply.error.message, reply.error.code);
    },
    end() {
      if (used) return;
      used = true;
      end();
      readied(false);
    },
  };
}

/**
 * Posts `request` to a new worker running `entry`, resolves with its answer, ends the worker.
 * When no worker can be started from `entry` (a single executable built without it as an entry point),
 * `inProcess` answers instead: same code, same answer, only without the memory saving.
 */
export function callWorker<Req, Res>(entry: URL, request: Req, inProcess: (request: Req) => Promise<Res>): Promise<Res> {
  return startWorker<Req, Res>(entry).call(request, inProcess);
}

/** the worker's side: answers each request with `handler`'s result or its error */
export function serveWorkerCalls<Req, Res>(handler: (request: Req) => Promise<Res> | Res): void {
  const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<Req>) => void) | null; postMessage(message: WorkerReply<Res>): void };
  scope.onmessage = async (event) => {
    let reply: WorkerReply<Res>;
    try {
      reply = { ok: true, value: await handler(event.data) };
    } catch (error) {
      const e = error as { name?: unknown; message?: unknown; code?: unknown };
      reply = { ok: false, error: { name: typeof e?.name === "string" ? e.name : "Error", message: typeof e?.message === "string" ? e.message : String(error), ...(typeof e?.code === "string" ? { code: e.code } : {}) } };
    }
    scope.postMessage(reply);
  };
  scope.postMessage({ ready: true });
}
