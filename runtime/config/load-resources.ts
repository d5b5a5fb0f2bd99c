// Istio resources as parsed values → validated entries, and the library's `resources` (objects, no
// file system) → one MeshConfig. Kept apart from load.ts so that validating objects never loads a
// YAML parser (yaml-docs.ts, yaml-fast.ts, the yaml package: ~26 ms of a cold start, issue 16);
// load.ts feeds this loader the documents it parses from files.
import type { Origin, Resource } from "./types.ts";
import { formatPath, type ConfigError } from "./errors.ts";
import type { YamlDocument } from "./yaml-docs.ts";
import { l4Problems } from "./l4-honesty.ts";
import { NETWORKING_GROUP, istioKind, parseResource, telemetrySpec, type IstioKind, type SpecOf } from "./schemas.ts";
import { securityNotices } from "./schema-security.ts";
import { errorMap, issueProblems } from "./issues.ts";
import { UNSUPPORTED } from "./schema-common.ts";
import { assembleConfig, deepFreeze, type FileEntry, type LoadResult, type Subject } from "./assemble.ts";

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "");

/**
 * The one Istio kind kept as written (MeshConfig.other) rather than built into the config:
 * Telemetry, whose access logging telemetry/telemetry-resource.ts reads. Its spec is validated
 * here (schemas.ts telemetrySpec: what dietmesh cannot honour is refused with its path). Every
 * other *.istio.io kind dietmesh does not validate is refused: accepted and not enforced would
 * break the rule that accepted config is honoured.
 */
function keptAsWritten(group: string, kind: string): boolean {
  return group === "telemetry.istio.io" && kind === "Telemetry";
}

/** One file's documents → its entries, in order (assemble.ts puts the files together). */
export class FileLoader {
  readonly entries: FileEntry[] = [];

  constructor(private readonly defaultNamespace: string) {}

  document(file: string, doc: YamlDocument) {
    const origin = { file, document: doc.index };
    if (doc.errors.length) {
      // the first error only: the ones after it are usually the parser losing its footing
      const { message, line } = doc.errors[0];
      this.entries.push({ error: { code: "yaml-syntax", severity: "error", file, document: doc.index, line, message } });
    } else if (doc.value != null) this.resource(doc.value, origin, doc, []);
  }

  private resource(value: unknown, origin: Origin, doc: YamlDocument, at: PropertyKey[]) {
    const where = { file: origin.file, document: origin.document };
    const fail = (message: string, path: PropertyKey[] = [], who: Partial<ConfigError> = {}) =>
      void this.entries.push({ error: { code: "schema", severity: "error", ...where, ...who, line: doc.lineOf([...at, ...path]), path: formatPath([...at, ...path]) || undefined, message } });
    if (!isObject(value)) return fail("expected a Kubernetes resource (a mapping with apiVersion, kind and metadata)");
    const { apiVersion, kind } = value;
    if (typeof apiVersion !== "string") return fail(`expected apiVersion to be a string such as "${NETWORKING_GROUP}/v1"`, ["apiVersion"]);
    if (typeof kind !== "string") return fail("expected kind to be a string such as \"VirtualService\"", ["kind"]);
    // kubectl get -o yaml wraps resources in a List
    if (kind.endsWith("List") && Array.isArray(value.items)) {
      value.items.forEach((item, i) => this.resource(item, origin, doc, [...at, "items", i]));
      return;
    }
    const meta = isObject(value.metadata) ? value.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : undefined;
    const namespace = typeof meta.namespace === "string" ? meta.namespace : this.defaultNamespace;
    const who: Subject = { ...where, kind, name, namespace };
    const group = groupOf(apiVersion);
    const known = istioKind(group, kind);

    if (known) {
      this.validated(known, group, value, origin, doc, at, who, fail);
    } else if (group.endsWith("istio.io")) {
      if (!keptAsWritten(group, kind)) {
        const message = `${group} ${kind} is an Istio kind dietmesh does not build; remove it from the config dietmesh reads (a kind kept and not enforced would not be honoured)`;
        return void this.entries.push({ error: { code: "unbuilt-kind", severity: "error", ...who, line: doc.lineOf([...at, "kind"]), path: formatPath([...at, "kind"]), message } });
      }
      if (!name) return fail("required field is missing (expected a string)", ["metadata", "name"], who);
      const spec = telemetrySpec.safeParse(value.spec ?? {}, { error: errorMap, reportInput: true });
      if (!spec.success) {
        for (const p of issueProblems(spec.error.issues)) fail(p.message, ["spec", ...p.path], who);
        return;
      }
      const labels = isObject(meta.labels) ? meta.labels : {};
      const annotations = isObject(meta.annotations) ? meta.annotations : {};
      const resource = { apiVersion, kind, metadata: { ...meta, name, namespace, labels, annotations }, spec: spec.data, origin };
      this.entries.push({ resource: resource as Resource<string, unknown>, group, who, validated: false });
    } else {
      this.entries.push({ skipped: { apiVersion, kind, name, namespace, origin }, group, who });
    }
  }

  private validated<K extends IstioKind>(
    kind: K, group: string, value: Raw, origin: Origin, doc: YamlDocument, at: PropertyKey[], who: Subject,
    fail: (message: string, path: PropertyKey[], who: Subject) => void,
  ) {
    const parsed = parseResource(kind, value, { error: errorMap, reportInput: true });
    if (!parsed.success) {
      for (const p of issueProblems(parsed.issues)) fail(p.message, p.path, who);
      return;
    }
    const { apiVersion, metadata, spec } = parsed.data;
    // what would parse but be served as something else (L4 not built yet): refused with its path
    const l4 = l4Problems(kind, spec);
    if (l4.length) {
      for (const p of l4) fail(p.message, ["spec", ...p.path], who);
      return;
    }
    const resource: Resource<K, SpecOf[K]> = { apiVersion, kind, metadata: { ...metadata, namespace: who.namespace! }, spec, origin };
    this.stripUnsupported(resource.spec, [...at, "spec"], who, doc);
    for (const n of group === NETWORKING_GROUP ? [] : securityNotices(spec as Raw)) {
      const here = [...at, "spec", ...(n.path ?? [])];
      this.entries.push({ notice: { code: "unsupported-field", severity: "warning", ...who, line: doc.lineOf(here), path: formatPath(here), message: n.message } });
    }
    this.entries.push({ resource: resource as Resource<string, unknown>, group, who, validated: true });
  }

  /** Istio fields dietmesh accepts but ignores come out of the schema as UNSUPPORTED: drop and warn */
  private stripUnsupported(tree: unknown, path: PropertyKey[], who: Subject, doc: YamlDocument) {
    if (typeof tree !== "object" || tree === null) return;
    for (const [key, value] of Object.entries(tree)) {
      const here = [...path, Array.isArray(tree) ? Number(key) : key];
      if (value !== UNSUPPORTED) {
        this.stripUnsupported(value, here, who, doc);
        continue;
      }
      delete (tree as Raw)[key];
      const message = "a valid Istio field that dietmesh does not support yet; ignored";
      this.entries.push({ notice: { code: "unsupported-field", severity: "warning", ...who, line: doc.lineOf(here), path: formatPath(here), message } });
    }
  }
}

/**
 * Istio resources passed as parsed objects (the library's `resources`, for a runtime with no file
 * system) → one MeshConfig, validated exactly as files are. Each object stands where a file would:
 * its errors name `resources[i]`, its kind, name and field path (no line: there is no text).
 * The objects are cloned first, so the frozen config never freezes the caller's own objects.
 */
export function loadResources(objects: readonly unknown[], defaultNamespace: string): LoadResult {
  const perObject = objects.map((value, index): FileEntry[] => {
    const file = `resources[${index}]`;
    const loader = new FileLoader(defaultNamespace);
    let copy: unknown;
    try {
      copy = structuredClone(value);
    } catch {
      copy = undefined; // a function or a class instance: not data, reported as a non-resource below
    }
    if (copy == null) return [{ error: { code: "schema", severity: "error", file, message: "expected a Kubernetes resource (an object with apiVersion, kind and metadata)" } }];
    loader.document(file, { index: 0, value: copy, errors: [], lineOf: () => undefined });
    // one object, not a file of documents: "document 1" would only be noise
    return loader.entries.map((entry) => ("error" in entry ? { error: { ...entry.error, document: undefined } } : "notice" in entry ? { notice: { ...entry.notice, document: undefined } } : entry));
  });
  return deepFreeze(assembleConfig({ errors: [], notices: [] }, perObject));
}
