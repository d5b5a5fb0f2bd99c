// Files and folders of Istio YAML → one validated, deeply frozen MeshConfig, or every reason why not.
// A change with any error is rejected whole (config undefined) so the last good config stays in
// service. File I/O is passed in: this module never names a runtime.
import type { MeshConfig, Origin, Resource } from "./types.ts";
import { formatPath, type ConfigError } from "./errors.ts";
import { parseYamlDocuments, type YamlDocument } from "./yaml-docs.ts";
import { collectFiles, type ConfigIO } from "./files.ts";
import { l4Problems } from "./l4-honesty.ts";
import { NETWORKING_GROUP, istioKind, parseResource, type IstioKind, type SpecOf } from "./schemas.ts";
import { securityNotices } from "./schema-security.ts";
import { errorMap, issueProblems } from "./issues.ts";
import { UNSUPPORTED } from "./schema-common.ts";

export type { ConfigIO } from "./files.ts";

export interface LoadOptions extends ConfigIO {
  /** namespace for resources whose metadata has none (kubectl's -n) */
  defaultNamespace: string;
  /** descend into sub-folders of a named folder; off by default, like kubectl apply -f */
  recursive?: boolean;
}

/** a non-Istio resource seen and skipped; `check` uses Services as known hosts */
export interface SkippedResource {
  apiVersion: string;
  kind: string;
  name?: string;
  namespace: string;
  origin: Origin;
}

export interface LoadResult {
  /** undefined when there is any error */
  config?: MeshConfig;
  errors: ConfigError[];
  /** warnings and info: skipped kinds, kinds kept unvalidated, Istio fields dietmesh ignores */
  notices: ConfigError[];
  skipped: SkippedResource[];
}

type Raw = Record<string, unknown>;
/** who and where, for every message about one resource */
type Subject = Pick<ConfigError, "file" | "document" | "kind" | "name" | "namespace">;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "");

class Loader {
  readonly errors: ConfigError[] = [];
  readonly notices: ConfigError[] = [];
  readonly skipped: SkippedResource[] = [];
  readonly lists: { [K in IstioKind]: Resource<K, SpecOf[K]>[] } = {
    Gateway: [],
    VirtualService: [],
    DestinationRule: [],
    ServiceEntry: [],
    WorkloadEntry: [],
    PeerAuthentication: [],
    AuthorizationPolicy: [],
    RequestAuthentication: [],
  };
  readonly other: Resource<string, unknown>[] = [];
  private readonly seen = new Map<string, Origin>();
  // one notice per kind, not per resource: a folder of Deployments should not drown the real news
  private readonly byKind = new Map<string, { notice: ConfigError; names: string[] }>();

  constructor(private readonly defaultNamespace: string) {}

  document(file: string, doc: YamlDocument) {
    const origin = { file, document: doc.index };
    if (doc.errors.length) {
      // the first error only: the ones after it are usually the parser losing its footing
      const { message, line } = doc.errors[0];
      this.errors.push({ code: "yaml-syntax", severity: "error", file, document: doc.index, line, message });
    } else if (doc.value != null) this.resource(doc.value, origin, doc, []);
  }

  private resource(value: unknown, origin: Origin, doc: YamlDocument, at: PropertyKey[]) {
    const where = { file: origin.file, document: origin.document };
    const fail = (message: string, path: PropertyKey[] = [], who: Partial<ConfigError> = {}) =>
      this.errors.push({ code: "schema", severity: "error", ...where, ...who, line: doc.lineOf([...at, ...path]), path: formatPath([...at, ...path]) || undefined, message });
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
      if (!name) return fail("required field is missing (expected a string)", ["metadata", "name"], who);
      const labels = isObject(meta.labels) ? meta.labels : {};
      const annotations = isObject(meta.annotations) ? meta.annotations : {};
      const resource = { apiVersion, kind, metadata: { ...meta, name, namespace, labels, annotations }, spec: value.spec, origin };
      this.countKind(group, "unvalidated-kind", "an Istio kind dietmesh keeps but does not check or enforce yet", origin, who);
      if (this.unique(group, who)) this.other.push(resource as Resource<string, unknown>);
    } else {
      this.skipped.push({ apiVersion, kind, name, namespace, origin });
      this.countKind(group, "skipped-kind", "not an Istio resource; skipped", origin, who);
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
      this.notices.push({ code: "unsupported-field", severity: "warning", ...who, line: doc.lineOf(here), path: formatPath(here), message: n.message });
    }
    if (this.unique(group, who)) this.lists[kind].push(resource);
  }

  private unique(group: string, who: Subject) {
    const key = `${group}|${who.kind}|${who.namespace}|${who.name}`;
    const first = this.seen.get(key);
    if (!first) {
      this.seen.set(key, { file: who.file, document: who.document! });
      return true;
    }
    const message = `defined twice; the first is in ${first.file}, document ${first.document + 1}`;
    this.errors.push({ code: "duplicate", severity: "error", ...who, message });
    return false;
  }

  private countKind(group: string, code: "skipped-kind" | "unvalidated-kind", why: string, origin: Origin, who: Subject) {
    const key = `${group}|${who.kind}`;
    const entry = this.byKind.get(key);
    if (entry) entry.names.push(who.name ?? "?");
    else {
      const notice: ConfigError = { code, severity: "info", file: origin.file, document: origin.document, kind: who.kind, message: why };
      this.byKind.set(key, { notice, names: [who.name ?? "?"] });
    }
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
      this.notices.push({ code: "unsupported-field", severity: "warning", ...who, line: doc.lineOf(here), path: formatPath(here), message });
    }
  }

  finish(): LoadResult {
    for (const { notice, names } of this.byKind.values()) {
      const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
      this.notices.push({ ...notice, message: `${notice.message} (${names.length}: ${shown})` });
    }
    const { lists } = this;
    const config: MeshConfig | undefined = this.errors.length
      ? undefined
      : {
          gateways: lists.Gateway,
          virtualServices: lists.VirtualService,
          destinationRules: lists.DestinationRule,
          serviceEntries: lists.ServiceEntry,
          workloadEntries: lists.WorkloadEntry,
          peerAuthentications: lists.PeerAuthentication,
          authorizationPolicies: lists.AuthorizationPolicy,
          requestAuthentications: lists.RequestAuthentication,
          other: this.other,
        };
    return { config, errors: this.errors, notices: this.notices, skipped: this.skipped };
  }
}

/**
 * Loads files and folders (folders: their *.yaml, *.yml and *.json files, sorted by name, not
 * recursive unless asked) into one MeshConfig. Everything returned is deeply frozen.
 */
export async function loadConfig(paths: string[], options: LoadOptions): Promise<LoadResult> {
  const loader = new Loader(options.defaultNamespace);
  const { files, errors, notices } = await collectFiles(paths, options, options.recursive ?? false);
  loader.errors.push(...errors);
  loader.notices.push(...notices);
  for (const file of files) {
    let text: string;
    try {
      text = await options.readTextFile(file);
    } catch (e) {
      loader.errors.push({ code: "io", severity: "error", file, message: `cannot read the file: ${(e as Error).message}` });
      continue;
    }
    for (const doc of parseYamlDocuments(text)) loader.document(file, doc);
  }
  return deepFreeze(loader.finish());
}

/** freezes every object and array reachable from value, so no consumer can change a loaded config */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
