// The parts of create, update and delete that every kind shares: type and object metadata checks,
// field validation (Strict, Warn, Ignore), resourceVersion preconditions, status subresource
// rules, generation, and finalizers. handlers.ts wires them to HTTP; kinds.ts adds per-kind rules.
import { apiVersionOf, type ResourceType } from "./resources.ts";
import { badRequest, badValue, conflict, failure, invalid } from "./status.ts";
import { nameProblem } from "./kinds.ts";
import type { KubeObject } from "./store.ts";

/** loose on purpose: client-supplied JSON documents, checked field by field */
export type Obj = Record<string, any>;

const META_FIELDS = new Set([
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
]);
const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function fieldValidation(params: URLSearchParams): FieldValidation {
  const v = params.get("fieldValidation") ?? "Warn";
  if (v !== "Strict" && v !== "Warn" && v !== "Ignore") throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Unknown top-level and metadata fields: Strict rejects them (400, "strict decoding error"), Warn
 * returns them as warnings, Ignore drops them. Inside spec nothing is checked: a cluster without
 * Istio's validating webhook stores any Istio spec too.
 */
export function checkFields(t: ResourceType, body: Obj, mode: FieldValidation): string[] {
  const unknown: string[] = [];
  for (const key of Object.keys(body)) {
    if (key === "apiVersion" || key === "kind" || key === "metadata" || t.fields.includes(key)) continue;
    unknown.push(key);
    if (mode === "Ignore") delete body[key];
  }
  for (const key of Object.keys(body.metadata ?? {})) {
    if (META_FIELDS.has(key)) continue;
    unknown.push(`metadata.${key}`);
    if (mode === "Ignore") delete body.metadata[key];
  }
  if (mode === "Strict" && unknown.length) {
    throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  }
  return mode === "Warn" ? unknown.map((f) => `unknown field "${f}"`) : [];
}

/** the body's apiVersion and kind must name what the URL names (either may be left out) */
export function checkTypeMeta(t: ResourceType, version: string, body: unknown): Obj {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("the body of the request is not a JSON object");
  const obj = body as Obj;
  const expected = apiVersionOf(t, version);
  if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
  }
  if (obj.kind !== undefined && obj.kind !== t.kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${t.kind})`);
  }
  if (typeof obj.metadata !== "object" || obj.metadata === null) obj.metadata = {};
  return obj;
}

export function checkNamespace(t: ResourceType, obj: Obj, namespace: string | undefined): void {
  if (!t.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  obj.metadata.namespace = namespace;
}

export function nameFor(t: ResourceType, obj: Obj, random: () => number): string {
  let name: string | undefined = obj.metadata.name;
  if (!name && obj.metadata.generateName) {
    name = obj.metadata.generateName + Array.from({ length: 5 }, () => GENERATE_ALPHABET[Math.floor(random() * GENERATE_ALPHABET.length)]).join("");
  }
  if (!name) throw invalid(t, "", [{ reason: "FieldValueRequired", message: "name or generateName is required", field: "metadata.name" }]);
  const problem = nameProblem(t, name);
  if (problem) throw invalid(t, name, [badValue("metadata.name", name, problem)]);
  return name;
}

export const timestamp = (ms = Date.now()) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** metadata the server owns on a new object */
export function newMeta(t: ResourceType, obj: Obj, name: string): void {
  if (obj.metadata.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
  const meta = obj.metadata;
  meta.name = name;
  meta.uid = crypto.randomUUID();
  meta.creationTimestamp = timestamp();
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  delete meta.managedFields;
  if (t.generation) meta.generation = 1;
  else delete meta.generation;
  if (t.custom && t.status) delete obj.status;
}

/**
 * The object an update stores: the body, with what the server owns carried over from the current
 * object (uid, creationTimestamp, deletionTimestamp, generation; status when a /status
 * subresource owns it), or only the body's status for a /status write. Throws 409 on a stale
 * resourceVersion and, for custom resources, 422 when none was given.
 */
export function merged(t: ResourceType, current: KubeObject, body: Obj, subresource: string | undefined): Obj {
  const name = current.metadata.name;
  if (body.metadata.name !== undefined && body.metadata.name !== name) {
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  const rv = body.metadata.resourceVersion;
  if (!rv && t.custom) throw invalid(t, name, [{ reason: "FieldValueInvalid", message: "Invalid value: 0x0: must be specified for an update", field: "metadata.resourceVersion" }]);
  if (rv && rv !== current.metadata.resourceVersion) throw conflict(t, name);
  if (subresource === "status") {
    const next = structuredClone(current) as Obj;
    if (body.status === undefined) delete next.status;
    else next.status = body.status;
    return next;
  }
  const next: Obj = { ...body, metadata: { ...body.metadata } };
  const meta = next.metadata;
  meta.name = name;
  meta.uid = current.metadata.uid;
  meta.creationTimestamp = current.metadata.creationTimestamp;
  if (current.metadata.deletionTimestamp) meta.deletionTimestamp = current.metadata.deletionTimestamp;
  else delete meta.deletionTimestamp;
  delete meta.managedFields;
  if (t.status) {
    if ((current as Obj).status === undefined) delete next.status;
    else next.status = (current as Obj).status;
  }
  if (t.generation) {
    const changed = JSON.stringify((current as Obj).spec) !== JSON.stringify(next.spec);
    meta.generation = (current.metadata.generation ?? 1) + (changed ? 1 : 0);
  }
  return next;
}

/** the same object apart from its resourceVersion: an update that changes nothing writes nothing */
export function sameObject(a: Obj, b: Obj): boolean {
  const strip = (o: Obj) => ({ ...o, apiVersion: undefined, kind: undefined, metadata: { ...o.metadata, resourceVersion: undefined } });
  return JSON.stringify(canonical(strip(a))) === JSON.stringify(canonical(strip(b)));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(Object.keys(v).filter((k) => (v as Obj)[k] !== undefined).sort().map((k) => [k, canonical((v as Obj)[k])]));
}

/** DeleteOptions.preconditions: 409 when the object is not the one the client meant */
export function checkPreconditions(t: ResourceType, current: KubeObject, options: Obj): void {
  const pre = options.preconditions ?? {};
  if (pre.uid && pre.uid !== current.metadata.uid) {
    throw failure(409, "Conflict", `Operation cannot be fulfilled on ${t.resource} "${current.metadata.name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw failure(409, "Conflict", `Operation cannot be fulfilled on ${t.resource} "${current.metadata.name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
  }
}

/** the object as a client sees it at `version`: apiVersion and kind first */
export function present(t: ResourceType, version: string, o: KubeObject | Obj): Obj {
  const { apiVersion: _a, kind: _k, ...rest } = o as Obj;
  return { apiVersion: apiVersionOf(t, version), kind: t.kind, ...rest };
}

