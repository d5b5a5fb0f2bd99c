// A test Kubernetes API server: plain HTTP on loopback, in memory, good enough for the real
// kubectl (discovery, OpenAPI v3 index, create/get/list/replace/apply/patch/delete/watch, Tables
// for `kubectl get`) and for dietmesh's Kubernetes adapter. It serves Namespaces, Services, Pods,
// ServiceAccounts, EndpointSlices, Deployments and Jobs (stored only: no controllers, no kubelet)
// and the Istio CRDs in every version they serve. Errors are metav1.Status objects. How it
// differs from a real cluster is listed in docs/kubernetes.md.
import { platform, type Server } from "../../runtime/platform/index.ts";
import { createHandlers, type Call } from "./kube-api/handlers.ts";
import { createKubeStore } from "./kube-api/local.ts";
import { apiGroup, apiGroupList, apiVersions, openApiDocument, openApiIndex, resourceList, SERVER_VERSION } from "./kube-api/discovery.ts";
import { findType, type ResourceType } from "./kube-api/resources.ts";
import { ApiError, failure, type Status } from "./kube-api/status.ts";
import type { KubeStore, KubeStoreOptions } from "./kube-api/store.ts";
import type { WatchRegistry } from "./kube-api/watch.ts";
import { decodeProtobuf } from "./kube-api/protobuf.ts";

export { KubeStore, type KubeObject } from "./kube-api/store.ts";
export { createKubeStore, kubeClient } from "./kube-api/local.ts";

export interface KubeApiOptions extends KubeStoreOptions {
  /** 0 (default) lets the OS choose */
  port?: number;
  hostname?: string;
  /** reuse the state of an earlier server (a restart on the same etcd); otherwise a fresh one */
  store?: KubeStore;
  /**
   * start with a fresh watch cache, as a restarted API server does: the store's history is
   * compacted, so watches resuming from any earlier resourceVersion get 410 Expired
   */
  freshHistory?: boolean;
  /** when set, requests must carry "Authorization: Bearer <token>" (else 401) */
  token?: string;
  /** how often watches with allowWatchBookmarks get a BOOKMARK (default 30 s) */
  bookmarkIntervalMs?: number;
  random?: () => number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface KubeApi {
  /** "http://127.0.0.1:PORT" */
  address: string;
  port: number;
  store: KubeStore;
  /** every request received, oldest first */
  requests: RecordedRequest[];
  /** writes a kubeconfig for this server (current context "test", namespace default) and returns its path */
  kubeconfig(path: string, options?: { token?: string; namespace?: string }): Promise<string>;
  /** stops the server; open watches break as they would if the process died */
  stop(): Promise<void>;
}

interface Target {
  t: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watch: boolean;
}

/** /api/v1/..., /apis/<group>/<version>/...: which resource, namespace, name and subresource */
function resolve(parts: string[]): Target | undefined {
  const [group, version, rest] = parts[0] === "api" ? ["", parts[1], parts.slice(2)] : [parts[1], parts[2], parts.slice(3)];
  let segments = rest;
  let watch = false;
  if (segments[0] === "watch") {
    watch = true;
    segments = segments.slice(1);
  }
  let namespace: string | undefined;
  if (segments[0] === "namespaces" && segments.length >= 3 && findType(group, version, segments[2])?.namespaced) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  const [resource, name, subresource, ...extra] = segments;
  const t = resource ? findType(group, version, resource) : undefined;
  if (!t || extra.length) return undefined;
  if (!t.namespaced && namespace) return undefined;
  return { t, version, namespace, name, subresource, watch };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

const statusResponse = (s: Status) => json(s.code, s);
const notFoundPage = () => statusResponse(failure(404, "NotFound", "the server could not find the requested resource").status);

export function startKubeApi(options: KubeApiOptions = {}): KubeApi {
  const store = options.store ?? createKubeStore(options);
  if (options.freshHistory) store.compact();
  const requests: RecordedRequest[] = [];
  const watches: WatchRegistry = new Set();
  const handle = createHandlers({ store, random: options.random ?? Math.random, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 30_000, watches });
  const hostname = options.hostname ?? "127.0.0.1";
  let address = "";

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    requests.push({ method: request.method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
    if (options.token && request.headers.get("authorization") !== `Bearer ${options.token}`) {
      return statusResponse(failure(401, "Unauthorized", "Unauthorized").status);
    }
    const parts = url.pathname.split("/").filter(Boolean);
    const path = parts.join("/");
    if (["healthz", "livez", "readyz"].includes(path)) return new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });
    if (path === "version") return json(200, SERVER_VERSION);
    if (path === "api") return json(200, apiVersions(address.replace("http://", "")));
    if (path === "apis") return json(200, apiGroupList());
    if (path === "openapi/v2") {
      // no schemas: kubectl then skips client-side validation of kinds the v3 index lacks (as
      // it does for kinds a real server has no schema for) and computes patches from its built-ins.
      // kubectl asks for protobuf, and an empty openapi_v2.Document is zero bytes
      if ((request.headers.get("accept") ?? "").includes("protobuf")) return new Response(new Uint8Array(), { headers: { "content-type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" } });
      return json(200, { swagger: "2.0", info: { title: "Kubernetes (dietmesh test API server)", version: SERVER_VERSION.gitVersion }, paths: {} });
    }
    if (path === "openapi/v3") return json(200, openApiIndex());
    if (path.startsWith("openapi/v3/")) {
      const doc = openApiDocument(path.slice("openapi/v3/".length));
      return doc ? json(200, doc) : notFoundPage();
    }
    if (parts[0] === "api" && parts.length === 2) {
      const list = resourceList("", parts[1]);
      return list ? json(200, list) : notFoundPage();
    }
    if (parts[0] === "apis" && parts.length === 2) {
      const g = apiGroup(parts[1]);
      return g ? json(200, g) : notFoundPage();
    }
    if (parts[0] === "apis" && parts.length === 3) {
      const list = resourceList(parts[1], parts[2]);
      return list ? json(200, list) : notFoundPage();
    }
    const target = parts[0] === "api" || parts[0] === "apis" ? resolve(parts) : undefined;
    if (!target) return notFoundPage();
    const params = url.searchParams;
    if (target.watch) params.set("watch", "true");
    const call: Call = {
      t: target.t, version: target.version, namespace: target.namespace, name: target.name, subresource: target.subresource,
      method: request.method, params, headers: request.headers,
      body: async () => {
        const type = request.headers.get("content-type") ?? "";
        if (type.includes("protobuf")) {
          const decoded = decodeProtobuf(new Uint8Array(await request.arrayBuffer()));
          if (decoded) return decoded;
        }
        if (type.includes("protobuf") || type.includes("cbor")) {
          throw failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json (protobuf only for Namespace, ServiceAccount and Secret in this test server)`);
        }
        const text = await request.text();
        if (!text.trim()) return undefined;
        try {
          return JSON.parse(text);
        } catch (error) {
          throw failure(400, "BadRequest", `the body of the request was in an unknown format: ${(error as Error).message}`);
        }
      },
    };
    const reply = await handle(call);
    if (reply.response) return reply.response;
    const headers: Record<string, string> = {};
    if (reply.warnings?.length) headers.warning = reply.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ");
    return json(reply.status, reply.body, headers);
  }

  const server: Server = platform.serve({
    hostname,
    port: options.port ?? 0,
    handler: async (request) => {
      try {
        return await route(request);
      } catch (error) {
        if (error instanceof ApiError) return statusResponse(error.status);
        return statusResponse(failure(500, "InternalError", `Internal error occurred: ${error instanceof Error ? error.stack ?? error.message : String(error)}`).status);
      }
    },
    onError: (error) => statusResponse(failure(500, "InternalError", String(error)).status),
  });
  address = `http://${hostname}:${server.port}`;

  return {
    address,
    port: server.port,
    store,
    requests,
    async kubeconfig(path, config = {}) {
      const user = config.token ? `{ token: ${JSON.stringify(config.token)} }` : "{}";
      await platform.writeTextFile(path, `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: { server: "${address}" }
users:
- name: test
  user: ${user}
contexts:
- name: test
  context: { cluster: test, user: test, namespace: ${config.namespace ?? "default"} }
current-context: test
preferences: {}
`);
      return path;
    },
    async stop() {
      for (const close of [...watches]) close(true);
      await server.stop(true);
      // a forced stop can return before the port is free (Deno): wait until nothing answers there,
      // so a test may start the next server on the same port at once
      for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        try {
          await fetch(`${address}/healthz`, { headers: { connection: "close" }, signal: AbortSignal.timeout(500) });
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

