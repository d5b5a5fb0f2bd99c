// The HTTP calls the adapter makes: JSON GETs (discovery, list pages) and watches, whose answer is
// a stream of JSON lines read as it arrives. A non-2xx answer becomes a KubeApiError carrying the
// metav1.Status code and reason, which the reflector switches on (410 Expired → relist).
import { systemClock, type Clock } from "../../runtime/lib/clock.ts";
import type { KubeOptions } from "./options.ts";
import { statusSchema, watchEventSchema, type KubeStatus } from "./schemas.ts";
import type { KubeFetch } from "./transport.ts";

export class KubeApiError extends Error {
  readonly code = "KUBE_API";
  constructor(readonly status: number, readonly reason: string | undefined, message: string, readonly causes: readonly string[] = []) {
    super(message);
  }
}

/** a watch or list asked for a resourceVersion the server no longer (or not yet) has: relist */
export function needsRelist(error: unknown): boolean {
  if (!(error instanceof KubeApiError)) return false;
  return error.status === 410 || error.reason === "Expired" || error.reason === "Gone" || error.causes.includes("ResourceVersionTooLarge");
}

export function statusError(status: KubeStatus, httpStatus: number, what: string): KubeApiError {
  const code = status.code ?? httpStatus;
  const causes = (status.details?.causes ?? []).map((c) => c.reason ?? "");
  return new KubeApiError(code, status.reason, `${what}: ${code} ${status.reason ?? ""} ${status.message ?? ""}`.trim(), causes);
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: unknown;
}

export interface KubeClient {
  /** GET a JSON document; rejects with KubeApiError on non-2xx, timeout or network failure */
  get(path: string, query: Record<string, string>, signal: AbortSignal): Promise<unknown>;
  /**
   * A watch's events as they arrive. Ends when the server ends the stream; throws when it breaks,
   * when nothing (not even a bookmark) arrives for idleMs, or on a non-2xx answer.
   */
  watch(path: string, query: Record<string, string>, signal: AbortSignal, idleMs: number): AsyncGenerator<WatchEvent>;
}

const REQUEST_TIMEOUT_MS = 60_000;

export function kubeClient(options: KubeOptions, send: KubeFetch): KubeClient {
  const clock: Clock = options.clock ?? systemClock;
  const base = options.server.replace(/\/+$/, "");

  async function headers(): Promise<Record<string, string>> {
    const out: Record<string, string> = { accept: "application/json", "user-agent": "dietmesh" };
    let token = options.token;
    if (!token && options.tokenFile && options.readTextFile) {
      try {
        token = (await options.readTextFile(options.tokenFile)).trim();
      } catch (error) {
        throw new KubeApiError(0, undefined, `cannot read the token file ${options.tokenFile}: ${(error as Error).message}`);
      }
    }
    if (token) out.authorization = `Bearer ${token}`;
    return out;
  }

  /** fetch under a timer that aborts when no progress is made for ms; touch() re-arms it */
  async function open(path: string, query: Record<string, string>, signal: AbortSignal, ms: number) {
    const qs = new URLSearchParams(query).toString();
    const url = `${base}${path}${qs ? `?${qs}` : ""}`;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    let timer = clock.setTimeout(() => ((timedOut = true), controller.abort()), ms);
    const touch = () => {
      clock.clearTimeout(timer);
      timer = clock.setTimeout(() => ((timedOut = true), controller.abort()), ms);
    };
    const done = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const failed = (error: unknown) => {
      if (error instanceof KubeApiError) return error;
      if (timedOut) return new KubeApiError(0, undefined, `GET ${path}: no answer within ${ms} ms`);
      return new KubeApiError(0, undefined, `GET ${path}: ${error instanceof Error ? error.message : String(error)}`);
    };
    let response: Response;
    try {
      response = await send(url, { headers: await headers(), signal: controller.signal });
      if (!response.ok) {
        const text = await response.text();
        let status: KubeStatus = {};
        try {
          status = statusSchema.parse(JSON.parse(text));
        } catch {
          status = { message: text.trim().slice(0, 200) || response.statusText };
        }
        throw statusError(status, response.status, `GET ${path}`);
      }
    } catch (error) {
      done();
      throw failed(error);
    }
    return { response, touch, done, failed };
  }

  return {
    async get(path, query, signal) {
      const { response, done, failed } = await open(path, query, signal, REQUEST_TIMEOUT_MS);
      try {
        return JSON.parse(await response.text());
      } catch (error) {
        throw failed(error instanceof SyntaxError ? new Error("the answer is not JSON") : error);
      } finally {
        done();
      }
    },

    async *watch(path, query, signal, idleMs) {
      const { response, touch, done, failed } = await open(path, { ...query, watch: "true" }, signal, idleMs);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let rest = "";
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch (error) {
            throw failed(error);
          }
          if (chunk.done) break;
          touch();
          rest += chunk.value;
          let nl: number;
          while ((nl = rest.indexOf("\n")) !== -1) {
            const line = rest.slice(0, nl).trim();
            rest = rest.slice(nl + 1);
            if (!line) continue;
            let event: WatchEvent;
            try {
              event = watchEventSchema.parse(JSON.parse(line));
            } catch {
              throw new KubeApiError(0, undefined, `GET ${path}: a watch event that is not JSON: ${line.slice(0, 120)}`);
            }
            yield event;
          }
        }
        if (signal.aborted) return;
        if (rest.trim()) throw new KubeApiError(0, undefined, `GET ${path}: the watch ended inside an event`);
      } finally {
        done();
        reader.cancel().catch(() => {});
      }
    },
  };
}
