// A fake Consul agent for tests and local runs: the HTTP API paths dietmesh and common clients
// use, with Consul's documented semantics: blocking queries on every read (?index=N&wait=5s
// hold until the index passes N or the wait, plus up to wait/16, elapses), X-Consul-Index,
// X-Consul-KnownLeader and X-Consul-LastContact on every answer, TTL and HTTP checks, the KV
// store, and ACL enforcement when started with a token. No consul binary ships in Debian, so
// curl and dietmesh's adapter talk to this instead. State lives in test/adapters/consul/fake-*.ts.
import { platform, type Server } from "../../runtime/platform/index.ts";
import { systemClock, type Clock } from "../../runtime/lib/clock.ts";
import { createConsulStore, type ConsulStore } from "../adapters/consul/fake-store.ts";
import { handleKv, type Reply } from "../adapters/consul/fake-kv.ts";
import { route } from "../adapters/consul/fake-routes.ts";
import { parseDuration } from "../adapters/consul/fake-checks.ts";

export interface ConsulAgentOptions {
  /** 0 (default) lets the OS choose */
  port?: number;
  hostname?: string;
  /** when set, the only token accepted (a management token); requests without one are anonymous */
  token?: string;
  /** TTL checks, HTTP check intervals and blocking waits run on it */
  clock?: Clock;
  random?: () => number;
  /** reuse the state of an earlier agent (a restart); otherwise a fresh one, closed by stop() */
  store?: ConsulStore;
  datacenter?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface ConsulAgent {
  /** "http://127.0.0.1:PORT" */
  address: string;
  port: number;
  store: ConsulStore;
  /** every request received, oldest first */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

const MAX_WAIT_MS = 10 * 60_000;

export function startConsulAgent(options: ConsulAgentOptions = {}): ConsulAgent {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const store = options.store ?? createConsulStore({ clock, datacenter: options.datacenter });
  const requests: RecordedRequest[] = [];
  const releases = new Set<() => void>();

  function tokenOf(request: Request, params: URLSearchParams): string | undefined {
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    return request.headers.get("x-consul-token") ?? params.get("token") ?? bearer ?? undefined;
  }

  /** holds a read while its index is not past ?index, up to ?wait; a snapshot restore ends it early */
  async function blocking(params: URLSearchParams, read: () => Reply): Promise<Reply> {
    const rawIndex = params.get("index");
    if (rawIndex !== null && !/^\d+$/.test(rawIndex)) return { status: 400, body: "Invalid index" };
    const minIndex = Number(rawIndex ?? 0);
    const wait = parseDuration(params.get("wait") ?? "5m");
    if (wait === undefined) return { status: 400, body: "Invalid wait time" };
    const waitMs = Math.min(wait || 5 * 60_000, MAX_WAIT_MS);
    let reply = read();
    const settled = () => reply.status >= 400 && reply.status !== 404;
    if (minIndex === 0 || settled() || (reply.index ?? 0) > minIndex) return reply;
    await new Promise<void>((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        unsubscribe();
        releases.delete(done);
        resolve();
      };
      const timer = clock.setTimeout(done, waitMs + random() * (waitMs / 16));
      const unsubscribe = store.onChange((abandon) => {
        if (abandon || (read().index ?? 0) > minIndex) done();
      });
      // not request.signal: Deno aborts it after every response too (and warns); a waiter whose
      // client left ends at its wait or at stop()
      releases.add(done);
    });
    return read();
  }

  function respond(reply: Reply): Response {
    const headers = new Headers({ "x-consul-knownleader": "true", "x-consul-lastcontact": "0" });
    if (reply.index !== undefined) headers.set("x-consul-index", String(reply.index));
    if (reply.filtered) headers.set("x-consul-results-filtered-by-acls", "true");
    headers.set("x-consul-default-acl-policy", options.token ? "deny" : "allow");
    let body: BodyInit | null = null;
    if (reply.body instanceof Uint8Array) body = reply.body as Uint8Array<ArrayBuffer>;
    else if (typeof reply.body === "string") body = reply.body;
    else if (reply.body !== undefined) {
      body = JSON.stringify(reply.body);
      headers.set("content-type", "application/json");
    }
    if (typeof reply.body === "string") headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(body, { status: reply.status, headers });
  }

  async function handle(request: Request): Promise<Reply> {
    const url = new URL(request.url);
    const params = url.searchParams;
    requests.push({ method: request.method, path: url.pathname, query: Object.fromEntries(params) });
    if (!url.pathname.startsWith("/v1/")) return { status: 404, body: "" };
    const parts = url.pathname.slice(4).split("/");
    let authorized = true;
    if (options.token && parts[0] !== "status") {
      const token = tokenOf(request, params);
      if (token !== undefined && token !== options.token) return { status: 403, body: "ACL not found" };
      authorized = token === options.token;
    }
    const dc = params.get("dc");
    if (dc && dc !== store.datacenter) return { status: 500, body: "No path to datacenter" };
    const bytes = new Uint8Array(await request.arrayBuffer());
    const body = () => (bytes.length ? JSON.parse(new TextDecoder().decode(bytes)) : {});
    let handled;
    try {
      handled = parts[0] === "kv"
        ? handleKv(store.kv, request.method, decodeURIComponent(parts.slice(1).join("/")), params, bytes, authorized)
        : route({ store, method: request.method, parts, params, body, authorized });
    } catch (error) {
      if (error instanceof SyntaxError) return { status: 400, body: `Request decode failed: ${error.message}` };
      throw error;
    }
    if (!handled) return { status: 404, body: "" };
    if ("read" in handled) return blocking(params, handled.read);
    if (request.method !== "GET") store.changed();
    return handled;
  }

  const server: Server = platform.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    handler: async (request) => respond(await handle(request)),
    onError: (error) => respond({ status: 500, body: String(error) }),
  });
  return {
    address: `http://${options.hostname ?? "127.0.0.1"}:${server.port}`,
    port: server.port,
    store,
    requests,
    async stop() {
      for (const release of [...releases]) release();
      await server.stop(true);
      if (!options.store) store.close();
    },
  };
}
