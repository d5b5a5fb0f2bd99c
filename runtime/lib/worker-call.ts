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
 * Posts `request` to a new worker running `entry`, resolves with its answer, ends the worker.
 * When no worker can be started from `entry` (a single-file executable that did not embed it),
 * `inProcess` answers instead: same code, same answer, only without the memory saving.
 */
export async function callWorker<Req, Res>(entry: URL, request: Req, inProcess: (request: Req) => Promise<Res>): Promise<Res> {
  const outcome = await new Promise<{ started: true; value: Res } | { started: false }>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(entry.href, { type: "module" });
    } catch {
      return resolve({ started: false });
    }
    let ready = false;
    const end = () => worker.terminate();
    worker.onmessage = (event: MessageEvent<WorkerReply<Res>>) => {
      const reply = event.data;
      if ("ready" in reply) {
        ready = true;
        worker.postMessage(request);
        return;
      }
      end();
      if (reply.ok) resolve({ started: true, value: reply.value });
      else reject(new WorkerError(reply.error.name, reply.error.message, reply.error.code));
    };
    // the module failed to load (before "ready"), or threw outside the handler (after it)
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      end();
      if (!ready) resolve({ started: false });
      else reject(new Error(`worker ${entry.pathname.split("/").pop()} failed: ${event.message || "unknown error"}`));
    };
  });
  if (outcome.started) return outcome.value;
  fallbacks++;
  return inProcess(request);
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
