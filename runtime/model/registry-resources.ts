// Config that arrives through a registry (Istio resources read from the Kubernetes API) beside the
// files. Each resource is handed to the config loader as one more "file" named by its ref, so it
// is validated exactly like YAML and its errors name it. The rule for bad ones differs from
// files: a file with an error rejects the whole change (the user fixes the file), but one bad
// object in a cluster must not freeze everybody's config, so a resource with an error is
// replaced by its last accepted version, or left out when it has none (as istiod skips invalid
// config), and the rest goes into service.
import type { ConfigIO } from "../config/files.ts";
import type { ConfigError } from "../config/errors.ts";
import type { RegistryResource } from "./types.ts";

/** the file I/O with each resource readable (as JSON) under its ref */
export function resourceIO(io: ConfigIO, files: ReadonlyMap<string, string>): ConfigIO {
  return {
    readTextFile: (path) => (files.has(path) ? Promise.resolve(files.get(path)!) : io.readTextFile(path)),
    readDir: (path) => io.readDir(path),
    isDirectory: (path) => (files.has(path) ? Promise.resolve(false) : io.isDirectory(path)),
  };
}

export interface Attempt<T> {
  /** everything wrong with this combination of files and resources (errors only) */
  problems: ConfigError[];
  value?: T;
}

export interface ResourceLoad<T> {
  /** set when the load succeeded, possibly without some resources */
  value?: T;
  /** what rejects the whole load (a file's errors, or what remained after leaving resources out) */
  errors: ConfigError[];
  /** problems with resources that were replaced by their last accepted version or left out */
  rejected: { error: ConfigError; fallback: "last accepted" | "left out" }[];
  /** ref → the object now in service, to pass as `lastAccepted` next time */
  accepted: Map<string, unknown>;
}

/**
 * Tries the files with every resource; when only resources are at fault, tries again with those
 * replaced by their last accepted versions, then without them. `attempt` loads and checks the
 * files plus the given resources (ref → JSON text).
 */
export async function loadWithResources<T>(
  resources: readonly RegistryResource[],
  lastAccepted: ReadonlyMap<string, unknown>,
  attempt: (files: ReadonlyMap<string, string>) => Promise<Attempt<T>>,
): Promise<ResourceLoad<T>> {
  let current = new Map(resources.map((r) => [r.ref, r.object] as const));
  const rejected: ResourceLoad<T>["rejected"] = [];
  for (let round = 0; round < 3; round++) {
    const files = new Map([...current].map(([ref, object]) => [ref, JSON.stringify(object)] as const));
    const result = await attempt(files);
    if (!result.problems.length) return { value: result.value, errors: [], rejected, accepted: current };
    const bad = new Set(result.problems.map((p) => p.file).filter((f) => current.has(f)));
    // a file is at fault, or the resources' fallbacks failed too: the whole change is rejected
    if (bad.size === 0 || result.problems.some((p) => !current.has(p.file)) || round === 2) {
      return { errors: result.problems, rejected, accepted: new Map(lastAccepted) };
    }
    const next = new Map(current);
    for (const ref of bad) {
      const previous = lastAccepted.get(ref);
      const fallback = round === 0 && previous !== undefined && previous !== current.get(ref);
      for (const error of result.problems.filter((p) => p.file === ref)) rejected.push({ error, fallback: fallback ? "last accepted" : "left out" });
      if (fallback) next.set(ref, previous);
      else next.delete(ref);
    }
    current = next;
  }
  return { errors: [], rejected, accepted: current };
}
