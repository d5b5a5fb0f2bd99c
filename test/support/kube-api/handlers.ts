// The verbs on one resource type: get, list (selectors, limit/continue pagination, resourceVersion
// and resourceVersionMatch), watch, create, update (PUT), patch (JSON, merge and strategic merge),
// delete (preconditions, finalizers) and deletecollection, with the real server's answers.
import { KubeStore, keyOf, type KubeObject } from "./store.ts";
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from "./resources.ts";
import { alreadyExists, badRequest, expired, failure, notFound, tooLarge } from "./status.ts";
import { fieldMatcher, labelMatcher } from "./selectors.ts";
import { jsonPatch, mergePatch, strategicMergePatch, SMP_SCHEMAS } from "./patch.ts";
import { onCreate, onUpdate, type KindContext } from "./kinds.ts";
import {
  checkFields, checkNamespace, checkPreconditions, checkTypeMeta, fieldValidation, merged, nameFor, newMeta, present,
  sameObject, timestamp, type Obj,
} from "./objects.ts";
import { toTable, wantsTable, type IncludeObject } from "./table.ts";
import { watchResponse, type WatchRegistry } from "./watch.ts";

export interface Call {
  t: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  method: string;
  params: URLSearchParams;
  headers: Headers;
  body: () => Promise<unknown>;
}

export interface Reply {
  status: number;
  body?: unknown;
  warnings?: string[];
  /** a streaming answer (watch) */
  response?: Response;
}

export interface HandlerContext {
  store: KubeStore;
  random: () => number;
  bookmarkIntervalMs: number;
  watches: WatchRegistry;
}

const namespaces = RESOURCE_TYPES.find((t) => t.kind === "Namespace")!;
const services = RESOURCE_TYPES.find((t) => t.kind === "Service")!;
const serviceAccounts = RESOURCE_TYPES.find((t) => t.kind === "ServiceAccount")!;
const CONTINUE_VERSION = "meta.k8s.io/v1";

const isTrue = (v: string | null) => v === "true" || v === "1";
const dryRun = (params: URLSearchParams) => params.getAll("dryRun").includes("All");

export function createHandlers(ctx: HandlerContext): (call: Call) => Promise<Reply> {
  const { store } = ctx;

  const kinds: KindContext = {
    allocateClusterIP() {
      const used = new Set(store.list(services).map(({ object }) => (object.spec as Obj | undefined)?.clusterIP));
      for (let n = 10; n < 4096 * 256; n++) {
        const ip = `10.96.${n >> 8}.${n & 255}`;
        if (!used.has(ip)) return ip;
      }
      throw failure(500, "InternalError", "no cluster IP left in 10.96.0.0/12");
    },
    allocateNodePort() {
      const used = new Set(store.list(services).flatMap(({ object }) => ((object.spec as Obj | undefined)?.ports ?? []).map((p: Obj) => p.nodePort)));
      for (let p = 30000; p <= 32767; p++) if (!used.has(p)) return p;
      throw failure(500, "InternalError", "no node port left");
    },
    serviceAccountExists: (ns, name) => store.get(serviceAccounts, ns, name) !== undefined,
  };

  /** resolves true once the store reached rv, false after 3 s (the watch cache's wait) */
  function waitForRevision(rv: number): Promise<boolean> {
    if (store.revision() >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), 3000);
      const unsubscribe = store.subscribe(() => store.revision() >= rv && done(true));
    });
  }

  const keyFor = (t: ResourceType, namespace: string | undefined, name: string) => keyOf(t.namespaced ? namespace : undefined, name);

  function current(call: Call): KubeObject {
    const found = store.get(call.t, call.namespace, call.name!);
    if (!found) throw notFound(call.t, call.name!);
    return found;
  }

  function render(call: Call, items: KubeObject[], listMeta: Obj, single: boolean): unknown {
    const { t, version } = call;
    if (wantsTable(call.headers.get("accept"))) {
      const include = (call.params.get("includeObject") ?? "Metadata") as IncludeObject;
      return toTable(t, items.map((o) => (include === "Object" ? present(t, version, o) : o) as KubeObject), listMeta, include);
    }
    if (single) return present(t, version, items[0]);
    // typed lists (built-in kinds) leave kind and apiVersion out of their items; custom resources keep them
    const shown = items.map((o) => (t.custom ? present(t, version, o) : (({ apiVersion: _a, kind: _k, ...rest }) => rest)(o as Obj)));
    return { apiVersion: apiVersionOf(t, version), kind: `${t.kind}List`, metadata: listMeta, items: shown };
  }

  async function list(call: Call): Promise<Reply> {
    const { t, params } = call;
    const labels = labelMatcher(params.get("labelSelector"));
    const fields = fieldMatcher(t, params.get("fieldSelector"));
    const selective = Boolean(params.get("labelSelector") || params.get("fieldSelector"));
    const limit = Number(params.get("limit") ?? 0);
    const token = params.get("continue");
    const asked = params.get("resourceVersion");
    let revision = store.revision();
    let start = "";
    if (token) {
      if (asked) throw badRequest("specifying resource version is not allowed when using continue");
      let decoded: { v?: string; rv?: number; start?: string };
      try {
        decoded = JSON.parse(atob(token));
      } catch {
        throw badRequest(`continue key is not valid: illegal base64 data`);
      }
      if (decoded.v !== CONTINUE_VERSION || typeof decoded.rv !== "number" || typeof decoded.start !== "string") throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
      if (decoded.rv < store.compacted()) {
        throw expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
      }
      revision = decoded.rv;
      start = decoded.start;
    } else if (asked && asked !== "0") {
      const rv = Number(asked);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${asked}`);
      if (!(await waitForRevision(rv))) throw tooLarge(rv, store.revision());
      if (params.get("resourceVersionMatch") === "Exact") revision = rv;
    }
    const all = store.list(t, revision, (object) => (!call.namespace || object.metadata.namespace === call.namespace) && labels(object) && fields(object));
    const rest = all.filter(({ key }) => key >= start);
    const page = limit > 0 ? rest.slice(0, limit) : rest;
    const meta: Obj = { resourceVersion: String(revision) };
    if (limit > 0 && rest.length > limit) {
      meta.continue = btoa(JSON.stringify({ v: CONTINUE_VERSION, rv: revision, start: `${page[page.length - 1].key}\u0000` }));
      if (!selective) meta.remainingItemCount = rest.length - limit;
    }
    return { status: 200, body: render(call, page.map((p) => p.object), meta, false) };
  }

  async function watch(call: Call): Promise<Reply> {
    const { t, params } = call;
    const labels = labelMatcher(params.get("labelSelector"));
    const fields = fieldMatcher(t, params.get("fieldSelector") ?? (call.name ? `metadata.name=${call.name}` : null));
    const sendInitialEvents = isTrue(params.get("sendInitialEvents"));
    const allowBookmarks = isTrue(params.get("allowWatchBookmarks"));
    if (sendInitialEvents && (!allowBookmarks || params.get("resourceVersionMatch") !== "NotOlderThan")) {
      throw failure(422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: [sendInitialEvents: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, allowWatchBookmarks: Forbidden: sendInitialEvents requires allowWatchBookmarks=true]");
    }
    const timeoutSeconds = params.get("timeoutSeconds");
    // the real server ends a watch without timeoutSeconds after 30 to 60 minutes
    const timeoutMs = timeoutSeconds ? Number(timeoutSeconds) * 1000 : (1800 + 1800 * ctx.random()) * 1000;
    const table = wantsTable(call.headers.get("accept"));
    const include = (params.get("includeObject") ?? "Metadata") as IncludeObject;
    const encode = (o: KubeObject) => (table ? toTable(t, [(include === "Object" ? present(t, call.version, o) : o) as KubeObject], { resourceVersion: o.metadata.resourceVersion }, include) : present(t, call.version, o));
    const response = await watchResponse(store, {
      t, version: call.version, namespace: call.namespace, matches: (o) => labels(o) && fields(o),
      resourceVersion: params.get("resourceVersion"), allowBookmarks, sendInitialEvents, timeoutMs,
      bookmarkIntervalMs: ctx.bookmarkIntervalMs, encode,
    }, ctx.watches, waitForRevision);
    return { status: 200, response };
  }

  async function create(call: Call): Promise<Reply> {
    const { t, params } = call;
    const body = checkTypeMeta(t, call.version, await call.body());
    const warnings = checkFields(t, body, fieldValidation(params));
    checkNamespace(t, body, call.namespace);
    if (t.namespaced && !store.get(namespaces, undefined, call.namespace!)) throw notFound(namespaces, call.namespace!);
    const name = nameFor(t, body, ctx.random);
    newMeta(t, body, name);
    if (!t.custom) onCreate(t, body as KubeObject, kinds);
    const key = keyFor(t, call.namespace, name);
    if (store.get(t, call.namespace, name)) throw alreadyExists(t, name);
    const object = { apiVersion: apiVersionOf(t, t.versions[0]), kind: t.kind, ...body } as unknown as KubeObject;
    if (dryRun(params)) return { status: 201, body: present(t, call.version, object), warnings };
    const stored = store.write(t, object, key).object;
    if (t.kind === "Namespace") {
      // the service account controller's job, done at once: every namespace has "default"
      const sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name, uid: crypto.randomUUID(), creationTimestamp: timestamp() } } as KubeObject;
      store.write(serviceAccounts, sa, keyOf(name, "default"));
    }
    return { status: 201, body: present(t, call.version, stored), warnings };
  }

  /** stores `body` as the new state of the object (update and patch end here) */
  function update(call: Call, was: KubeObject, body: Obj, warnings: string[]): Reply {
    const { t } = call;
    checkNamespace(t, body, call.namespace);
    const next = merged(t, was, body, call.subresource);
    if (!t.custom && call.subresource !== "status") onUpdate(t, was, next as KubeObject);
    const key = keyFor(t, call.namespace, was.metadata.name);
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length)) {
      if (dryRun(call.params)) return { status: 200, body: present(t, call.version, next), warnings };
      return { status: 200, body: present(t, call.version, store.write(t, undefined, key).object), warnings };
    }
    if (sameObject(was, next)) return { status: 200, body: present(t, call.version, was), warnings };
    if (dryRun(call.params)) return { status: 200, body: present(t, call.version, next), warnings };
    return { status: 200, body: present(t, call.version, store.write(t, next as KubeObject, key).object), warnings };
  }

  async function replace(call: Call): Promise<Reply> {
    const body = checkTypeMeta(call.t, call.version, await call.body());
    const warnings = checkFields(call.t, body, fieldValidation(call.params));
    return update(call, current(call), body, warnings);
  }

  async function patch(call: Call): Promise<Reply> {
    const { t } = call;
    const type = (call.headers.get("content-type") ?? "").split(";")[0].trim();
    const patchBody = await call.body();
    const was = current(call);
    const shown = present(t, call.version, was);
    let result: unknown;
    if (type === "application/json-patch+json") result = jsonPatch(shown, patchBody);
    else if (type === "application/merge-patch+json") result = mergePatch(shown, patchBody as never);
    else if (type === "application/strategic-merge-patch+json" && !t.custom) result = strategicMergePatch(shown, patchBody as never, SMP_SCHEMAS[t.kind]);
    else {
      const accepted = t.custom ? "application/json-patch+json, application/merge-patch+json" : "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json";
      const why = type === "application/apply-patch+yaml" ? " (server-side apply is not implemented by this test server)" : "";
      throw failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted}${why}`);
    }
    const body = checkTypeMeta(t, call.version, result);
    const warnings = checkFields(t, body, fieldValidation(call.params));
    return update(call, was, body, warnings);
  }

  function deleteOne(call: Call, was: KubeObject, options: Obj): KubeObject {
    const { t } = call;
    checkPreconditions(t, was, options);
    const key = keyFor(t, was.metadata.namespace, was.metadata.name);
    if (was.metadata.finalizers?.length) {
      if (was.metadata.deletionTimestamp || dryRun(call.params)) return was;
      const marked = structuredClone(was);
      marked.metadata.deletionTimestamp = timestamp();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return store.write(t, marked, key).object;
    }
    if (dryRun(call.params)) return was;
    if (t.kind === "Namespace") {
      // the namespace controller's job, done at once and without the Terminating phase
      for (const nt of RESOURCE_TYPES.filter((r) => r.namespaced)) {
        for (const { key: k, object } of store.list(nt)) if (object.metadata.namespace === was.metadata.name) store.write(nt, undefined, k);
      }
    }
    return store.write(t, undefined, key).object;
  }

  async function remove(call: Call): Promise<Reply> {
    const raw = await call.body();
    const options = typeof raw === "object" && raw !== null ? (raw as Obj) : {};
    return { status: 200, body: present(call.t, call.version, deleteOne(call, current(call), options)) };
  }

  async function removeCollection(call: Call): Promise<Reply> {
    const { t, params } = call;
    const labels = labelMatcher(params.get("labelSelector"));
    const fields = fieldMatcher(t, params.get("fieldSelector"));
    const raw = await call.body();
    const options = typeof raw === "object" && raw !== null ? (raw as Obj) : {};
    const gone = store.list(t)
      .filter(({ object }) => (!call.namespace || object.metadata.namespace === call.namespace) && labels(object) && fields(object))
      .map(({ object }) => deleteOne(call, object, options));
    return { status: 200, body: { apiVersion: apiVersionOf(t, call.version), kind: `${t.kind}List`, metadata: { resourceVersion: String(store.revision()) }, items: gone.map((o) => present(t, call.version, o)) } };
  }

  return async (call) => {
    const { method, name, subresource } = call;
    // no scale, log, exec, ... subresources: nothing here would act on them
    if (subresource && (subresource !== "status" || !call.t.status)) throw failure(404, "NotFound", "the server could not find the requested resource");
    if (!name) {
      if (method === "GET") return isTrue(call.params.get("watch")) ? watch(call) : list(call);
      if (method === "POST") {
        if (call.t.namespaced && !call.namespace) throw failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return create(call);
      }
      if (method === "DELETE") return removeCollection(call);
    } else {
      if (method === "GET") {
        if (isTrue(call.params.get("watch"))) return watch(call);
        return { status: 200, body: render(call, [current(call)], { resourceVersion: current(call).metadata.resourceVersion }, true) };
      }
      if (method === "PUT") return replace(call);
      if (method === "PATCH") return patch(call);
      if (method === "DELETE" && !subresource) return remove(call);
    }
    throw failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  };
}

