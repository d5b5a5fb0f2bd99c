// The few HTTP calls dietmesh makes to a Consul agent: JSON reads that report X-Consul-Index, and
// JSON writes (registration). fetch only: GETs and PUTs need nothing the Web API lacks.
import { systemClock, type Clock } from "../../runtime/lib/clock.ts";

export class ConsulError extends Error {
  readonly code = "CONSUL_HTTP";
  constructor(readonly status: number, readonly path: string, message: string) {
    super(message);
  }
}

export interface ConsulRead<T> {
  body: T;
  /** X-Consul-Index; undefined when absent or not a number */
  index: number | undefined;
  /** X-Consul-Results-Filtered-By-ACLs: the token could not see everything */
  filteredByAcls: boolean;
}

export interface ConsulClientOptions {
  address: string;
  token?: string;
  datacenter?: string;
  namespace?: string;
  clock?: Clock;
}

export interface ConsulClient {
  /** a catalog/health read, with ?dc= and ?ns= added; rejects on non-2xx, timeout or abort */
  get<T>(path: string, query: Record<string, string>, signal: AbortSignal, timeoutMs: number): Promise<ConsulRead<T>>;
  /** an agent write (no ?dc=: agent endpoints act on the local agent) */
  put(path: string, body: unknown, query?: Record<string, string>, timeoutMs?: number): Promise<void>;
}

export function consulClient(options: ConsulClientOptions): ConsulClient {
  const clock = options.clock ?? systemClock;
  const base = options.address.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers["x-consul-token"] = options.token;

  function url(path: string, query: Record<string, string>, read: boolean): string {
    const params = new URLSearchParams(query);
    if (read && options.datacenter) params.set("dc", options.datacenter);
    if (options.namespace) params.set("ns", options.namespace);
    const qs = params.toString();
    return `${base}${path}${qs ? `?${qs}` : ""}`;
  }

  async function send(method: "GET" | "PUT", target: string, path: string, body: string | undefined, signal: AbortSignal | undefined, timeoutMs: number): Promise<{ headers: Headers; text: string }> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const response = await fetch(target, { method, headers: body === undefined ? headers : { ...headers, "content-type": "application/json" }, body, signal: controller.signal });
      const text = await response.text();
      if (!response.ok) {
        throw new ConsulError(response.status, path, `consul ${method} ${path}: ${response.status} ${text.trim().slice(0, 200) || response.statusText}`);
      }
      return { headers: response.headers, text };
    } catch (error) {
      if (timedOut) throw new ConsulError(0, path, `consul ${method} ${path}: no answer within ${timeoutMs} ms`);
      if (error instanceof ConsulError || signal?.aborted) throw error;
      throw new ConsulError(0, path, `consul ${method} ${path}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clock.clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  return {
    async get<T>(path: string, query: Record<string, string>, signal: AbortSignal, timeoutMs: number): Promise<ConsulRead<T>> {
      const response = await send("GET", url(path, query, true), path, undefined, signal, timeoutMs);
      let body: T;
      try {
        body = JSON.parse(response.text) as T;
      } catch {
        throw new ConsulError(200, path, `consul GET ${path}: the answer is not JSON`);
      }
      const header = response.headers.get("x-consul-index");
      const index = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : undefined;
      return { body, index, filteredByAcls: response.headers.get("x-consul-results-filtered-by-acls") === "true" };
    },
    async put(path, body, query = {}, timeoutMs = 10_000) {
      await send("PUT", url(path, query, false), path, body === undefined ? undefined : JSON.stringify(body), undefined, timeoutMs);
    },
  };
}
