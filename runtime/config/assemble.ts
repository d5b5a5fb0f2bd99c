// The cross-file half of loading config: per-file results (what each file's documents became:
// resources, errors, notices, skipped kinds, in document order) → one MeshConfig, or every reason
// why not. Split from load.ts so that a reload can re-parse only the files that changed and
// assemble them with the kept results of the others (issue 11): this module imports neither zod
// nor yaml, so the serving proxy can run it while the parsing stays in a short-lived worker.
import type { ConfigError } from "./errors.ts";
import type { MeshConfig, Origin, Resource } from "./types.ts";
import type { IstioKind, SpecOf } from "./schemas.ts";

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
  /** warnings and info: skipped kinds, Telemetry kept as written, Istio fields dietmesh ignores */
  notices: ConfigError[];
  skipped: SkippedResource[];
}

/** who and where, for every message about one resource */
export type Subject = Pick<ConfigError, "file" | "document" | "kind" | "name" | "namespace">;

/**
 * One thing a file's documents produced, in the order the loader met it. Plain data: it crosses
 * the worker boundary by structured clone, and a reload keeps it for files that did not change.
 */
export type FileEntry =
  | { error: ConfigError }
  | { notice: ConfigError }
  /** an Istio resource: validated (a kind dietmesh checks) or kept as it came (Telemetry, which telemetry-resource.ts reads) */
  | { resource: Resource<string, unknown>; group: string; who: Subject; validated: boolean }
  | { skipped: SkippedResource; group: string; who: Subject };

const KINDS: readonly IstioKind[] = ["Gateway", "VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry", "Sidecar", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication"];

/**
 * Replays the files' entries in order: duplicates across files are errors (the first stays), and
 * skipped or unvalidated kinds are summed into one notice per kind at the end.
 */
export function assembleConfig(collected: { errors: ConfigError[]; notices: ConfigError[] }, files: readonly (readonly FileEntry[])[]): LoadResult {
  const errors = [...collected.errors];
  const notices = [...collected.notices];
  const skipped: SkippedResource[] = [];
  const lists = Object.fromEntries(KINDS.map((k) => [k, [] as Resource<string, unknown>[]])) as Record<IstioKind, Resource<string, unknown>[]>;
  const other: Resource<string, unknown>[] = [];
  const seen = new Map<string, Origin>();
  // one notice per kind, not per resource: a folder of Deployments should not drown the real news
  const byKind = new Map<string, { notice: ConfigError; names: string[] }>();

  const unique = (group: string, who: Subject) => {
    const key = `${group}|${who.kind}|${who.namespace}|${who.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { file: who.file, document: who.document! });
      return true;
    }
    errors.push({ code: "duplicate", severity: "error", ...who, message: `defined twice; the first is in ${first.file}, document ${first.document + 1}` });
    return false;
  };
  const countKind = (group: string, code: "skipped-kind" | "unvalidated-kind", why: string, who: Subject) => {
    const key = `${group}|${who.kind}`;
    const entry = byKind.get(key);
    if (entry) entry.names.push(who.name ?? "?");
    else byKind.set(key, { notice: { code, severity: "info", file: who.file, document: who.document, kind: who.kind, message: why }, names: [who.name ?? "?"] });
  };

  for (const entries of files) {
    for (const entry of entries) {
      if ("error" in entry) errors.push(entry.error);
      else if ("notice" in entry) notices.push(entry.notice);
      else if ("skipped" in entry) {
        skipped.push(entry.skipped);
        countKind(entry.group, "skipped-kind", "not an Istio resource; skipped", entry.who);
      } else if (entry.validated) {
        if (unique(entry.group, entry.who)) lists[entry.resource.kind as IstioKind].push(entry.resource);
      } else {
        countKind(entry.group, "unvalidated-kind", "kept as written: only its access logging is read (telemetry/telemetry-resource.ts)", entry.who);
        if (unique(entry.group, entry.who)) other.push(entry.resource);
      }
    }
  }
  for (const { notice, names } of byKind.values()) {
    const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
    notices.push({ ...notice, message: `${notice.message} (${names.length}: ${shown})` });
  }
  const config = errors.length
    ? undefined
    : ({
        gateways: lists.Gateway,
        virtualServices: lists.VirtualService,
        destinationRules: lists.DestinationRule,
        serviceEntries: lists.ServiceEntry,
        workloadEntries: lists.WorkloadEntry,
        sidecars: lists.Sidecar,
        peerAuthentications: lists.PeerAuthentication,
        authorizationPolicies: lists.AuthorizationPolicy,
        requestAuthentications: lists.RequestAuthentication,
        other,
      } as MeshConfig);
  return { config, errors, notices, skipped };
}

/** a file that could not be read: its one entry */
export function readFailure(file: string, e: unknown): FileEntry[] {
  return [{ error: { code: "io", severity: "error", file, message: `cannot read the file: ${(e as Error).message}` } }];
}

/**
 * Freezes every object reachable from value (already frozen ones are taken as done). Arrays are
 * walked but not frozen: JavaScriptCore stores a frozen array's items in a sparse map instead of
 * its compact vector — measured, 2 × the heap of a parsed config, and at 10,000 services 56,000
 * such maps, 52 → 37 MB of heap with the registry's lists (model/registry.ts). Types keep arrays
 * `readonly`; V8 has no such cost, but one rule for both runtimes keeps the code one.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (const v of value) deepFreeze(v);
    return value;
  }
  if (!Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
