// Loads the config files, learns services from the discovery registries, builds the route table,
// and rebuilds it whenever a file or a registry changes. A bad file change is rejected whole: its
// errors are logged and the last good table stays in service. A registry that fails keeps its
// last state (its recover wrapper reconnects), so traffic goes on.
import { platform } from "../platform/index.ts";
import { incrementalConfigLoader } from "./config-worker.ts";
import { formatConfigError, type ConfigError } from "../config/errors.ts";
import { readConfigFiles, replacedWhole, sameFiles, watchTargets, type FilesRead, type ReadReference } from "../config/files.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { settleChanges } from "./settle.ts";
import { analyzeConfig } from "../config/analyze.ts";
import type { MeshConfig } from "../config/types.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type ProxyIdentity } from "../model/compile.ts";
import { staticRegistry, type Registry } from "../model/registry.ts";
import { mergeRegistries } from "../model/registry-merge.ts";
import { dnsRegistry, type DnsAnswer, type ResolvedName } from "../model/dns-registry.ts";
import { loadWithResources } from "../model/registry-resources.ts";
import { emptySnapshot, type RegistryResource, type RegistrySnapshot } from "../model/types.ts";
import type { RouteTable, TableRef } from "../model/route-table.ts";
import { loadEnginesFor } from "../config/load-engines.ts";
import { shrinkWhenIdle } from "../lib/shrink-when-idle.ts";

export { parseRegistrySpec, type RegistrySpec } from "./registry-spec.ts";
import type { RegistrySpec } from "./registry-spec.ts";

/** registries that also stream Istio config: Kubernetes, and Consul with ?kv=PREFIX */
function carriesConfig(spec: RegistrySpec): boolean {
  return spec.kind === "kubernetes" || (spec.kind === "consul" && /[?&]kv=[^&]/.test(spec.url ?? ""));
}

async function registryFor(spec: RegistrySpec, files: Registry, log: (message: string) => void, onRegistrySync: ConfigWatchOptions["onRegistrySync"], trustDomain: string | undefined): Promise<Registry> {
  if (spec.kind === "static") return files;
  const onSync = onRegistrySync && ((ok: boolean, atMs: number) => onRegistrySync(spec.kind, ok, atMs));
  // adapters load only when named: a static-only proxy starts without them
  if (spec.kind === "consul") {
    const [{ consulOptionsFrom }, { consulRegistry }] = await Promise.all([import("../../adapters/consul/options.ts"), import("../../adapters/consul/index.ts")]);
    return consulRegistry({ ...consulOptionsFrom(spec.url, platform.env), log, onSync });
  }
  const [{ kubeOptionsFrom, kubernetesRegistry }, { createTlsFetch }] = await Promise.all([import("../../adapters/kubernetes/index.ts"), import("../platform/tls-fetch.ts")]);
  // a cluster CA, client certificates, insecure-skip-tls-verify: the platform's TLS fetch
  return kubernetesRegistry({ ...(await kubeOptionsFrom(spec, platform.env, platform.readTextFile)), trustDomain, tls: createTlsFetch, log, onSync });
}

export interface ConfigWatchOptions {
  paths: string[];
  namespace: string;
  proxy: ProxyIdentity;
  /** the mesh's trust domain (the proxy's CA's): endpoints are expected to present spiffe://<it>/ns/<ns>/sa/<sa> (default cluster.local) */
  trustDomain?: string;
  /** a line at info, or at the level given (a rejected change is a warning) */
  log: (message: string, level?: "warn") => void;
  /** a remote registry (kubernetes, consul) synced (true) or its watch failed (false): dietmesh_registry_* metrics */
  onRegistrySync?: (registry: string, ok: boolean, atMs: number) => void;
  /** in order: the first registry that knows a host wins it (default: static only) */
  registries?: RegistrySpec[];
  /** how long start-up waits for every registry's first sync (Envoy's initial_fetch_timeout) */
  initialSyncMs?: number;
  /** called after every successful swap (listeners reconcile here) */
  onSwap?: (table: RouteTable) => void;
  /** called when a change is rejected (the last good table stays) */
  onReject?: () => void;
  /**
   * what this proxy cannot honour in a config that is valid in itself (a credentialName with no
   * credential source): rejects it like a load error, at start and on every reload
   */
  check?: (config: MeshConfig) => ConfigError[];
  /**
   * a file change is applied once the files read the same twice this far apart with no write in
   * between (default 300 ms: a writer pausing under 600 ms is never applied half-way); a change
   * that only replaced files whole (renames, a ConfigMap's symlink swap) after quickMs of quiet
   */
  settleMs?: number;
  /** the quiet time before a change made by renames is applied (default 40 ms: folds a burst of renames) */
  quickMs?: number;
  /** for the settle time (tests pass a fake one) */
  clock?: Clock;
  /** resolves the names of DNS ServiceEntries (model/dns-registry.ts); absent: the OS resolves them at connect */
  dns?: (name: string) => Promise<DnsAnswer>;
  /** validate files in a short-lived worker (default: on Bun, config-worker.ts); the library passes false */
  worker?: boolean;
}

export const DEFAULT_SETTLE_MS = 300;
export const DEFAULT_QUICK_MS = 40;

/**
 * A full collection (where the platform has one) once the task running now has ended. A load
 * continues in promise jobs of the config worker's answer, and Bun keeps the MessageEvent being
 * dispatched — the answer and its serialized copy, ~27 MB at 10,000 services — alive until that
 * task ends: a collection within it frees none of that (measured: 150 → 118 MB RSS at start).
 */
async function collectAfterTask(): Promise<void> {
  if (!platform.collectNow) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  platform.collectNow();
}

/**
 * how often start-up's garbage is looked at to be given back (platform.shrinkNow, at the end of
 * the first second the process was idle in: lib/shrink-when-idle.ts). The first look comes late
 * enough not to slow the start-up's last steps (measured: ready 0.2-0.6 s later at 10,000
 * services when done at once), and early enough to be done before an idle sidecar settles
 */
export const SHRINK_AFTER_START_MS = 1_000;

export interface ConfigWatch {
  table: TableRef;
  registry: Registry;
  /** reloads the files now; resolves true when the new config was accepted */
  reload(): Promise<boolean>;
  close(): void;
  /** the names DNS services resolve to, for /config_dump (empty without options.dns) */
  dnsNames(): ResolvedName[];
}

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory, readTextFileWithIdentity: platform.readTextFileWithIdentity, fileIdentity: platform.fileIdentity };

/** Throws with every error when the first load fails: there is no last good config to keep. */
export async function startConfigWatch(options: ConfigWatchOptions): Promise<ConfigWatch> {
  const files = staticRegistry(undefined, "static");
  const specs = options.registries?.length ? options.registries : [{ kind: "static" } as RegistrySpec];
  if (!specs.some((s) => s.kind === "static")) specs.push({ kind: "static" }); // ServiceEntries in files always count
  const members = await Promise.all(specs.map((s) => registryFor(s, files, options.log, options.onRegistrySync, options.trustDomain)));
  const merged = members.length === 1 ? files : mergeRegistries(members, { log: options.log });
  const dns = options.dns && dnsRegistry(merged, { resolve: options.dns, clock: options.clock ?? systemClock, log: options.log });
  const registry = dns ?? merged;

  let version = 0;
  let config: MeshConfig | undefined;
  let discovered: RegistrySnapshot = emptySnapshot;
  const table = {} as TableRef;

  // Istio config from a registry (the Kubernetes API) goes through the same loader as the files;
  // a bad object keeps its last accepted version (registry-resources.ts) instead of failing all
  let loadedResources: readonly RegistryResource[] | undefined;
  let acceptedResources: ReadonlyMap<string, unknown> = new Map();
  let reportedRejections = "";
  // keeps each file's parsed entries: a reload re-parses (in a short-lived worker) only what changed
  const loader = incrementalConfigLoader({ defaultNamespace: options.namespace, worker: options.worker, log: options.log });

  // the files' services, rebuilt only when a ServiceEntry or WorkloadEntry changed: the incremental
  // loader keeps unchanged resources as the same objects, so a route change costs no rebuild
  let lastFromFiles: { ses: readonly unknown[]; wes: readonly unknown[]; snapshot: RegistrySnapshot } | undefined;
  const same = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  function servicesFromFiles(config: MeshConfig): RegistrySnapshot {
    const { serviceEntries: ses, workloadEntries: wes } = config;
    if (lastFromFiles && same(lastFromFiles.ses, ses) && same(lastFromFiles.wes, wes)) return lastFromFiles.snapshot;
    lastFromFiles = { ses, wes, snapshot: snapshotFromConfig(ses, wes, "static", options.trustDomain) };
    return lastFromFiles.snapshot;
  }

  // the settle's confirming read of the files: the load takes their texts from it (see below)
  let confirmed: FilesRead | undefined;

  /** file or registry-config change: load, check, publish the files' own services, compile */
  async function loadFiles(analyze = true): Promise<string[]> {
    loadedResources = discovered.resources;
    const read = confirmed;
    confirmed = undefined;
    const outcome = await loadWithResources(discovered.resources ?? [], acceptedResources, async (extra) => {
      // validated in a short-lived worker: zod, yaml and the schemas never stay in this process
      const result = await loader.load([...options.paths, ...extra.keys()], extra, read);
      if (!result.config) return { problems: result.errors };
      const fromFiles = servicesFromFiles(result.config);
      const known = new Set([...fromFiles.services.keys(), ...discovered.services.keys()]);
      // what `dietmesh check` calls an error (an unknown subset or Gateway, weights adding up to 0)
      // is rejected too: it would send traffic nowhere
      const broken = analyze ? analyzeConfig(result.config, { knownHosts: known }).filter((e) => e.severity === "error") : [];
      broken.push(...(options.check?.(result.config) ?? []));
      return { problems: broken, value: { config: result.config, fromFiles } };
    });
    const rejections = outcome.rejected.map((r) => `${formatConfigError(r.error)} (${r.fallback === "left out" ? "left out" : "its last accepted version stays"})`).join("\n  ");
    if (rejections !== reportedRejections) {
      reportedRejections = rejections;
      if (rejections) options.log(`registry config rejected:\n  ${rejections}`);
    }
    if (!outcome.value) return outcome.errors.map(formatConfigError);
    acceptedResources = outcome.accepted;
    await loadEnginesFor(outcome.value.config); // re2js, jose: only when this config has a regex, a RequestAuthentication
    config = outcome.value.config;
    files.publish(outcome.value.fromFiles); // calls back at once: `discovered` now includes them
    return [];
  }

  function swap() {
    registryChanged = false;
    version++;
    // the table in service goes in: hosts it compiled on first use are carried over (model/on-demand.ts)
    table.current = compile(config!, discovered, options.proxy, { random: Math.random, version, previous: table.current });
  }

  let registryChanged = false;
  let resourcesChanged = false;
  // a file may name a Gateway or subset that the Kubernetes API (or Consul KV) defines: check
  // references, and load that config, once the registry synced
  const registryConfig = specs.some(carriesConfig);
  // the first load reads the files here, so that which files the config in service came from is
  // known: a later change that only replaced them whole needs no settle time
  confirmed = await readConfigFiles(options.paths, io);
  // the read the config in service came from: a change is replaced-whole against it, and files
  // left alone since are not read again (files.ts, LEFT_ALONE_MS)
  let loadedFrom: ReadReference = { identities: confirmed.identities, startedMs: confirmed.startedMs };
  const firstErrors = await loadFiles(!registryConfig);
  if (firstErrors.length) throw new Error(`config rejected:\n  ${firstErrors.join("\n  ")}`);
  registry.start((snapshot) => {
    discovered = snapshot;
    registryChanged = true;
    if (snapshot.resources !== loadedResources) resourcesChanged = true;
    if (table.current) void reload(false);
  });
  await waitForSync(registry, options.initialSyncMs ?? 15_000, options.log);
  if (registryConfig) {
    resourcesChanged = false;
    const errors = await loadFiles();
    if (errors.length) {
      registry.stop();
      throw new Error(`config rejected:\n  ${errors.join("\n  ")}`);
    }
  }
  swap();
  await collectAfterTask(); // the first load's garbage (parsing, the worker's answer) too
  // on the system clock, not options.clock: it is about the process's memory, not the config's timing
  const { shrinkNow, cpuTimeMs } = platform;
  const shrink = shrinkNow && cpuTimeMs ? shrinkWhenIdle({ clock: systemClock, cpuTimeMs, shrink: shrinkNow, everyMs: SHRINK_AFTER_START_MS }) : undefined;

  let running: Promise<boolean> | undefined;
  let filesChanged = false;
  /** a file change was loaded: start the worker for the next one when this reload is done */
  let spareAfter = false;
  async function reloadOnce(): Promise<boolean> {
    // the files' own ServiceEntries, published while they load, arrive as a registry change that
    // the swap below already includes: no second version for one change
    if (!filesChanged && !resourcesChanged && !registryChanged) return true;
    if (filesChanged || resourcesChanged) {
      filesChanged = resourcesChanged = false;
      // a loader that throws (a bug, or input deeper than a parser's stack) rejects the change
      // like any invalid config: the version in service stays, and nothing is left unhandled
      const errors = await loadFiles().catch((e: unknown) => [`the config could not be loaded: ${e instanceof Error ? e.message : String(e)}`]);
      // a change came: the next one (a burst, the fix of a rejected edit) finds a worker ready,
      // started once this one is in service (config-worker.ts, ended if unused after 30 s)
      spareAfter = true;
      if (errors.length) {
        options.log(`config change rejected, keeping version ${version}:\n  ${errors.join("\n  ")}`, "warn");
        options.onReject?.();
        if (!registryChanged) return false;
      }
    }
    swap();
    // a reload's garbage is the size of the mesh (docs/performance.md, issue 11): collect it now,
    // before saying so (the new table already serves)
    await collectAfterTask();
    options.log(`config version ${version} in service`);
    options.onSwap?.(table.current);
    return true;
  }
  // one rebuild at a time; changes that arrive meanwhile fold into one more
  let again = false;
  function reload(fileChange = true): Promise<boolean> {
    if (fileChange) filesChanged = true;
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce().finally(() => {
      running = undefined;
      if (spareAfter) loader.prestart();
      spareAfter = false;
      if (again) {
        again = false;
        void reload(false);
      }
    });
    return running;
  }

  const settle = settleChanges<FilesRead>({
    settleMs: options.settleMs ?? DEFAULT_SETTLE_MS,
    clock: options.clock ?? systemClock,
    read: () => readConfigFiles(options.paths, io, loadedFrom),
    same: sameFiles,
    // the texts the settle confirmed are the ones loaded (not read a third time, and never a
    // write that began after the confirmation)
    apply: (read) => {
      confirmed = read;
      loadedFrom = { identities: read.identities, startedMs: read.startedMs }; // not the texts: they go with the load
      void reload();
    },
    // parse what changed while the settle time runs: the reload then finds it parsed
    candidate: (read) => void loader.warm(options.paths, read),
    complete: (read) => replacedWhole(loadedFrom.identities, read),
    quickMs: options.quickMs ?? DEFAULT_QUICK_MS,
  });
  const watchers = (await watchTargets(options.paths, io)).map((target) =>
    platform.watchDir(target.dir, (name) => {
      // a watcher that cannot name the entry might have seen anything: the snapshot decides
      if (name === undefined || target.accepts(name)) settle.changed();
    }),
  );
  return {
    table,
    registry,
    reload: () => reload(),
    dnsNames: () => dns?.names() ?? [],
    close: () => {
      shrink?.stop();
      settle.close();
      loader.close();
      for (const w of watchers) w.close();
      registry.stop();
    },
  };
}

async function waitForSync(registry: Registry, timeoutMs: number, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!registry.synced()) {
    if (Date.now() >= deadline) {
      log(`registry ${registry.name} not synced after ${timeoutMs} ms; starting with what it has`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
