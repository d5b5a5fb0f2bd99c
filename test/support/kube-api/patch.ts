// The three patch formats the API server accepts for PATCH: JSON patch (RFC 6902), JSON merge
// patch (RFC 7386) and, for built-in kinds only, strategic merge patch — lists merged by their
// patchMergeKey (containers by name, Service ports by port, ...) with the $patch, $retainKeys,
// $setElementOrder and $deleteFromPrimitiveList directives kubectl's client-side apply sends.
import { badRequest, failure } from "./status.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------- JSON merge patch ----------

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key] ?? null, value);
  }
  return out;
}

// ---------- JSON patch ----------

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`the JSON pointer "${path}" does not start with "/"`);
  return path.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: Json, parts: string[], path: string): { parent: JsonObject | Json[]; last: string } {
  let node: Json = doc;
  for (const part of parts.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined as unknown as Json;
    if (node === undefined || node === null || typeof node !== "object") throw unprocessable(`doc is missing path: "${path}"`);
  }
  return { parent: node as JsonObject | Json[], last: parts[parts.length - 1] };
}

const unprocessable = (message: string) => failure(422, "Invalid", message);

function read(doc: Json, path: string): Json {
  let node: Json = doc;
  for (const part of pointer(path)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : (undefined as unknown as Json);
    if (node === undefined) throw unprocessable(`doc is missing path: "${path}"`);
  }
  return node;
}

function remove(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw unprocessable(`doc is missing path: "${path}"`);
    return parent.splice(i, 1)[0];
  }
  if (!(last in parent)) throw unprocessable(`doc is missing path: "${path}"`);
  const value = parent[last];
  delete parent[last];
  return value;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const parts = pointer(path);
  if (!parts.length) return value;
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length) || (replace && i === parent.length)) throw unprocessable(`doc is missing path: "${path}"`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    if (replace && !(last in parent)) throw unprocessable(`doc is missing path: "${path}": missing value`);
    parent[last] = value;
  }
  return doc;
}

export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = structuredClone(target);
  for (const raw of operations as Operation[]) {
    const { op, path } = raw;
    if (typeof path !== "string") throw badRequest(`the patch operation ${JSON.stringify(raw)} has no path`);
    switch (op) {
      case "add": doc = add(doc, path, structuredClone(raw.value ?? null), false); break;
      case "replace": doc = add(doc, path, structuredClone(raw.value ?? null), true); break;
      case "remove": remove(doc, path); break;
      case "move": { const v = remove(doc, raw.from ?? ""); doc = add(doc, path, v, false); break; }
      case "copy": doc = add(doc, path, structuredClone(read(doc, raw.from ?? "")), false); break;
      case "test":
        if (JSON.stringify(read(doc, path)) !== JSON.stringify(raw.value)) throw unprocessable(`the test operation at "${path}" failed`);
        break;
      default: throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}

// ---------- strategic merge patch ----------

/** where a built-in kind's lists merge instead of being replaced (the Go types' patchMergeKey tags) */
export interface SmpNode {
  fields?: Record<string, SmpNode>;
  /** a list of objects merged by this key */
  mergeKey?: string;
  /** a list of scalars merged as a set (metadata.finalizers) */
  set?: boolean;
  /** the schema of each list item */
  item?: SmpNode;
}

const list = (mergeKey: string, item?: SmpNode): SmpNode => ({ mergeKey, item });
const container: SmpNode = { fields: { ports: list("containerPort"), env: list("name"), volumeMounts: list("mountPath"), volumeDevices: list("devicePath") } };
const podSpec: SmpNode = {
  fields: {
    containers: list("name", container), initContainers: list("name", container), ephemeralContainers: list("name", container),
    volumes: list("name"), imagePullSecrets: list("name"), hostAliases: list("ip"),
  },
};
const metadata: SmpNode = { fields: { ownerReferences: list("uid"), finalizers: { set: true } } };
const conditions: SmpNode = { fields: { conditions: list("type") } };
const template: SmpNode = { fields: { metadata, spec: podSpec } };

export const SMP_SCHEMAS: Record<string, SmpNode> = {
  Namespace: { fields: { metadata, status: conditions } },
  Service: { fields: { metadata, spec: { fields: { ports: list("port") } }, status: conditions } },
  Pod: { fields: { metadata, spec: podSpec, status: conditions } },
  ServiceAccount: { fields: { metadata, secrets: list("name") } },
  EndpointSlice: { fields: { metadata } },
  Secret: { fields: { metadata } },
  Deployment: { fields: { metadata, spec: { fields: { template } }, status: conditions } },
  Job: { fields: { metadata, spec: { fields: { template } } } },
};

const DIRECTIVE = "$patch";
const RETAIN = "$retainKeys";
const ORDER = "$setElementOrder/";
const DELETE_FROM = "$deleteFromPrimitiveList/";

export function strategicMergePatch(target: Json, patch: Json, schema: SmpNode | undefined): Json {
  if (!isObject(patch)) return patch;
  return mergeMap(isObject(target) ? target : {}, patch, schema);
}

function mergeMap(target: JsonObject, patch: JsonObject, schema: SmpNode | undefined): Json {
  const directive = patch[DIRECTIVE];
  if (directive === "replace") {
    const out = { ...patch };
    delete out[DIRECTIVE];
    return out;
  }
  if (directive === "delete") return null;
  const out: JsonObject = { ...target };
  const orders: [string, Json[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN) continue;
    if (key.startsWith(ORDER)) {
      orders.push([key.slice(ORDER.length), value as Json[]]);
      continue;
    }
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      const drop = new Set((value as Json[]).map((v) => JSON.stringify(v)));
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((v) => !drop.has(JSON.stringify(v)));
      continue;
    }
    const child = schema?.fields?.[key];
    if (value === null) delete out[key];
    else if (Array.isArray(value)) out[key] = mergeList(Array.isArray(out[key]) ? (out[key] as Json[]) : [], value, child);
    else if (isObject(value)) {
      const merged = mergeMap(isObject(out[key]) ? (out[key] as JsonObject) : {}, value, child);
      if (merged === null) delete out[key];
      else out[key] = merged;
    } else out[key] = value;
  }
  for (const [field, order] of orders) if (Array.isArray(out[field])) out[field] = reorder(out[field] as Json[], order, schema?.fields?.[field]?.mergeKey);
  if (Array.isArray(patch[RETAIN])) {
    const keep = new Set(patch[RETAIN] as string[]);
    for (const key of Object.keys(out)) if (!keep.has(key)) delete out[key];
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], schema: SmpNode | undefined): Json[] {
  if (schema?.set) {
    const out = [...target];
    for (const v of patch) if (!out.some((t) => JSON.stringify(t) === JSON.stringify(v))) out.push(v);
    return out;
  }
  const key = schema?.mergeKey;
  if (!key) return patch.filter((v) => !(isObject(v) && v[DIRECTIVE] !== undefined));
  if (patch.some((v) => isObject(v) && v[DIRECTIVE] === "replace")) return patch.filter((v) => !(isObject(v) && v[DIRECTIVE] === "replace"));
  const out = [...target];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const at = out.findIndex((t) => isObject(t) && JSON.stringify(t[key]) === JSON.stringify(item[key]));
    if (item[DIRECTIVE] === "delete") {
      if (at !== -1) out.splice(at, 1);
      continue;
    }
    if (at === -1) {
      const added = mergeMap({}, item, schema?.item);
      if (added !== null) out.push(added);
    } else {
      const merged = mergeMap(out[at] as JsonObject, item, schema?.item);
      if (merged === null) out.splice(at, 1);
      else out[at] = merged;
    }
  }
  return out;
}

/** $setElementOrder: the listed items first, in that order; the others after, in their order */
function reorder(items: Json[], order: Json[], key: string | undefined): Json[] {
  const id = (v: Json) => JSON.stringify(key && isObject(v) ? v[key] : v);
  const rank = new Map(order.map((v, i) => [id(v), i]));
  const known = items.filter((v) => rank.has(id(v))).sort((a, b) => rank.get(id(a))! - rank.get(id(b))!);
  return [...known, ...items.filter((v) => !rank.has(id(v)))];
}
