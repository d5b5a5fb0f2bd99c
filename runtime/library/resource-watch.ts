// The config of a library mesh created with `resources` (Istio resources as parsed objects, for a
// runtime with no file system): the same loader, checks and compiler as the file watch
// (discovery/config-watch.ts), fed from objects instead of files, with the services of their
// ServiceEntries and WorkloadEntries as the static registry (and Consul beside it: HTTP only, no
// file needed; registries that carry config are not, the objects are the config). `replace` swaps the whole set: a set
// with any error is rejected whole and the last good table stays in service, as with a bad file.
import type { ConfigWatch, ConfigWatchOptions, RegistrySpec } from "../discovery/config-watch.ts";
import { platform } from "../platform/index.ts";
import { mergeRegistries } from "../model/registry-merge.ts";
import type { Registry } from "../model/registry.ts";
import { formatConfigError, type ConfigError } from "../config/errors.ts";
import type { MeshConfig } from "../config/types.ts";
import { analyzeConfig } from "../config/analyze.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../model/compile.ts";
import { staticRegistry } from "../model/registry.ts";
import { dnsRegistry } from "../model/dns-registry.ts";
import { systemClock } from "../lib/clock.ts";
import { emptySnapshot, type RegistrySnapshot } from "../model/types.ts";
import type { TableRef } from "../model/route-table.ts";
import { assembleConfig, deepFreeze, type LoadResult } from "../config/assemble.ts";
import { isCheckedConfig, openChecked } from "../config/checked.ts";
import { VERSION } from "../cli/version.ts";

/** a set of resources refused: every error, each naming resources[i], its kind, name and field path */
export class MeshConfigError extends Error {
  readonly code = "config-rejected";
  readonly errors: readonly ConfigError[];
  constructor(errors: readonly ConfigError[], what = "config rejected") {
    super(`${what}:\n  ${errors.map(formatConfigError).join("\n  ")}`);
    this.name = "MeshConfigError";
    this.errors = errors;
  }
}

export interface ResourceWatch extends ConfigWatch {
  /** loads a new set of resources; resolves the errors that rejected it (none: it is in service) */
  replace(resources: readonly unknown[]): Promise<ConfigError[]>;
}

/** Rejects with the errors when the first set is bad: there is no last good config to keep. */
export async function startResourceWatch(resources: readonly unknown[], options: ConfigWatchOptions): Promise<ResourceWatch> {
  // zod and the schemas load with the first set of resources to validate, not with the library
  // (a CheckedConfig needs neither); no YAML parser
  const { loadEnginesFor } = await import("../config/load-engines.ts");
  let validate: typeof import("../config/load-resources.ts").loadResources | undefined;
  const fromObjects = staticRegistry(undefined, "static");
  const specs = options.registries?.length ? options.registries : [{ kind: "static" } as RegistrySpec];
  if (!specs.some((s) => s.kind === "static")) specs.push({ kind: "static" }); // the objects' ServiceEntries always count
  const members = await Promise.all(specs.map((spec) => memberFor(spec, fromObjects, options.log)));
  const merged = mergeRegistries(members, { log: options.log });
  const dns = options.dns && dnsRegistry(merged, { resolve: options.dns, clock: options.clock ?? systemClock, log: options.log });
  const registry = dns ?? merged;
  const table = {} as TableRef;
  let config: MeshConfig | undefined;
  let discovered: RegistrySnapshot = emptySnapshot;
  let version = 0;

  function swap() {
    version++;
    table.current = compile(config!, discovered, options.proxy, { random: Math.random, version, previous: table.current });
  }

  /**
   * a set of objects as one config: validated, or (one CheckedConfig from `dietmesh check --emit`)
   * assembled as that check left it; re2js and jose loaded when its resources need them
   */
  async function loaded(objects: readonly unknown[]): Promise<LoadResult> {
    if (!objects.some(isCheckedConfig)) {
      await loadEnginesFor(objects); // before validation: zod checks regexes with re2js
      validate ??= (await import("../config/load-resources.ts")).loadResources;
      return validate(objects, options.namespace);
    }
    const refuse = (message: string): LoadResult => ({ errors: [{ code: "schema", severity: "error", file: "resources[0]", kind: "CheckedConfig", message }], notices: [], skipped: [] });
    if (objects.length !== 1) return refuse("a CheckedConfig is the whole config: give it alone in resources");
    const opened = await openChecked(objects[0] as Record<string, unknown>, VERSION);
    if ("problem" in opened) return refuse(opened.problem);
    // a copy, as validation copies: the frozen config never freezes the caller's own objects
    const files = structuredClone(opened.files);
    await loadEnginesFor(files.flatMap((entries) => entries.flatMap((e) => ("resource" in e ? [e.resource] : []))));
    return deepFreeze(assembleConfig({ errors: [], notices: [] }, files));
  }

  /** validates a set; when good, makes it the config and publishes its services */
  async function load(objects: readonly unknown[]): Promise<ConfigError[]> {
    const result = await loaded(objects);
    if (!result.config) return result.errors;
    const services = snapshotFromConfig(result.config.serviceEntries, result.config.workloadEntries, "static", options.trustDomain);
    // what `dietmesh check` calls an error (an unknown subset or Gateway, weights adding up to 0)
    // is refused too, as the file watch refuses it: it would send traffic nowhere
    const broken = analyzeConfig(result.config, { knownHosts: new Set([...services.services.keys(), ...discovered.services.keys()]) }).filter((e) => e.severity === "error");
    broken.push(...(options.check?.(result.config) ?? []));
    if (broken.length) return broken;
    config = result.config;
    publishing = true;
    fromObjects.publish(services);
    publishing = false;
    return [];
  }

  // a snapshot that arrives by itself (a DNS name re-resolved) rebuilds the table; one that a load
  // published is swapped in by that load
  let publishing = false;
  registry.start((snapshot) => {
    discovered = snapshot;
    if (table.current && !publishing) {
      swap();
      options.onSwap?.(table.current);
    }
  });

  const firstErrors = await load(resources);
  if (firstErrors.length) {
    registry.stop();
    throw new MeshConfigError(firstErrors);
  }
  await firstSync(registry, options.initialSyncMs ?? 15_000, options.log);
  swap();

  // one replacement at a time, in the order asked
  let queue: Promise<unknown> = Promise.resolve();
  return {
    table,
    registry,
    // nothing to re-read: the objects are the config
    reload: async () => true,
    replace(objects) {
      const run = queue.then(async () => {
        const errors = await load(objects);
        if (errors.length) {
          options.log(`config change rejected, keeping version ${version}:\n  ${errors.map(formatConfigError).join("\n  ")}`);
          options.onReject?.();
          return errors;
        }
        swap();
        options.log(`config version ${version} in service`);
        options.onSwap?.(table.current);
        return [];
      });
      queue = run.catch(() => undefined);
      return run;
    },
    dnsNames: () => dns?.names() ?? [],
    close: () => registry.stop(),
  };
}

async function memberFor(spec: RegistrySpec, fromObjects: Registry, log: (message: string) => void): Promise<Registry> {
  if (spec.kind === "static") return fromObjects;
  // mesh.ts refuses the rest before anything starts; this is the last guard
  if (spec.kind !== "consul" || /[?&]kv=/.test(spec.url ?? "")) throw new TypeError(`createMesh: the ${spec.kind} registry is not supported beside resources`);
  const [{ consulOptionsFrom }, { consulRegistry }] = await Promise.all([import("../../adapters/consul/options.ts"), import("../../adapters/consul/index.ts")]);
  return consulRegistry({ ...consulOptionsFrom(spec.url, platform.env), log });
}

/** until every registry synced once, or the time is up (Envoy's initial_fetch_timeout): then with what they have */
async function firstSync(registry: Registry, timeoutMs: number, log: (message: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!registry.synced()) {
    if (Date.now() >= deadline) return log(`registry ${registry.name} not synced after ${timeoutMs} ms; starting with what it has`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
