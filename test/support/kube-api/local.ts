// In-process access to the test API server's store, through the same rules as HTTP (defaults,
// validation, resource versions): how tests change the cluster behind a client's back, also
// while no server runs, and how a fresh store gets what every cluster starts with.
import { createHandlers, type Reply } from "./handlers.ts";
import { typeByKind, type ResourceType } from "./resources.ts";
import { KubeStore, keyOf, type KubeObject, type KubeStoreOptions } from "./store.ts";
import { timestamp, type Obj } from "./objects.ts";

/** a fresh store with what every cluster starts with: the four system namespaces, each with its default service account */
export function createKubeStore(options: KubeStoreOptions = {}): KubeStore {
  const store = new KubeStore(options);
  const namespaces = typeByKind("v1", "Namespace")!;
  const serviceAccounts = typeByKind("v1", "ServiceAccount")!;
  // written directly (the handlers are async): the store is complete when this returns
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    const meta = () => ({ uid: crypto.randomUUID(), creationTimestamp: timestamp() });
    store.write(namespaces, {
      apiVersion: "v1", kind: "Namespace", metadata: { name, ...meta(), labels: { "kubernetes.io/metadata.name": name } },
      spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" },
    }, keyOf(undefined, name));
    store.write(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name, ...meta() } }, keyOf(name, "default"));
  }
  return store;
}

export function kubeClient(store: KubeStore) {
  const handle = createHandlers({ store, random: Math.random, bookmarkIntervalMs: 30_000, watches: new Set() });
  const typeOf = (o: Obj): ResourceType => {
    const t = typeByKind(String(o.apiVersion), String(o.kind));
    if (!t) throw new Error(`kube client: no resource type for ${o.apiVersion} ${o.kind}`);
    return t;
  };
  const versionOf = (o: Obj) => String(o.apiVersion).split("/").pop()!;
  const call = (t: ResourceType, version: string, method: string, namespace: string | undefined, name: string | undefined, body?: unknown, contentType = "application/json", subresource?: string): Promise<Reply> =>
    handle({
      t, version, namespace: t.namespaced ? namespace ?? "default" : undefined, name, subresource, method,
      params: new URLSearchParams(), headers: new Headers({ "content-type": contentType }), body: async () => body,
    });
  const result = async (reply: Promise<Reply>) => (await reply).body as KubeObject;
  return {
    create: (o: Obj) => result(call(typeOf(o), versionOf(o), "POST", o.metadata?.namespace, undefined, structuredClone(o))),
    /** create, or replace whatever is there (no resourceVersion check) */
    async apply(o: Obj): Promise<KubeObject> {
      const t = typeOf(o);
      const existing = store.get(t, o.metadata?.namespace ?? "default", o.metadata.name);
      if (!existing) return this.create(o);
      const body = structuredClone(o);
      body.metadata = { ...body.metadata, resourceVersion: existing.metadata.resourceVersion };
      return result(call(t, versionOf(o), "PUT", o.metadata?.namespace, o.metadata.name, body));
    },
    /** a JSON merge patch, of the status subresource with subresource "status" */
    mergePatch: (apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: Obj, subresource?: string) =>
      result(call(typeOf({ apiVersion, kind }), versionOf({ apiVersion }), "PATCH", namespace, name, patch, "application/merge-patch+json", subresource)),
    delete: (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
      result(call(typeOf({ apiVersion, kind }), versionOf({ apiVersion }), "DELETE", namespace, name, {})),
    get: (apiVersion: string, kind: string, namespace: string | undefined, name: string) => store.get(typeOf({ apiVersion, kind }), namespace, name),
  };
}
