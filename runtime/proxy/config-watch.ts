// Loads the config files, builds the route table, and rebuilds it whenever a file changes. A bad
// change is rejected whole: its errors are logged and the last good table stays in service.
import { platform } from "../platform/index.ts";
import { loadConfig } from "../config/load.ts";
import { formatConfigError } from "../config/errors.ts";
import { analyzeConfig } from "../config/analyze.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type ProxyIdentity } from "../model/compile.ts";
import type { RouteTable, TableRef } from "../model/route-table.ts";

export interface ConfigWatchOptions {
  paths: string[];
  namespace: string;
  proxy: ProxyIdentity;
  log: (message: string) => void;
  /** called after every successful swap (listeners reconcile here) */
  onSwap?: (table: RouteTable) => void;
  /** called when a change is rejected (the last good table stays) */
  onReject?: () => void;
}

export interface ConfigWatch {
  table: TableRef;
  /** reloads now; resolves true when the new config was accepted */
  reload(): Promise<boolean>;
  close(): void;
}

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };

async function build(options: ConfigWatchOptions, version: number): Promise<{ table?: RouteTable; errors: string[] }> {
  const result = await loadConfig(options.paths, { defaultNamespace: options.namespace, ...io });
  if (!result.config) return { errors: result.errors.map(formatConfigError) };
  const snapshot = snapshotFromConfig(result.config.serviceEntries, result.config.workloadEntries);
  // what `dietmesh check` calls an error (an unknown subset or Gateway, weights adding up to 0)
  // is rejected too: it would send traffic nowhere
  const broken = analyzeConfig(result.config, { knownHosts: snapshot.services.keys() }).filter((e) => e.severity === "error");
  if (broken.length) return { errors: broken.map(formatConfigError) };
  return { table: compile(result.config, snapshot, options.proxy, { random: Math.random, version }), errors: [] };
}

/** Throws with every error when the first load fails: there is no last good config to keep. */
export async function startConfigWatch(options: ConfigWatchOptions): Promise<ConfigWatch> {
  let version = 1;
  const first = await build(options, version);
  if (!first.table) throw new Error(`config rejected:\n  ${first.errors.join("\n  ")}`);
  const table: TableRef = { current: first.table };

  let running: Promise<boolean> | undefined;
  let again = false;
  async function reloadOnce(): Promise<boolean> {
    const next = await build(options, version + 1);
    if (!next.table) {
      options.log(`config change rejected, keeping version ${version}:\n  ${next.errors.join("\n  ")}`);
      options.onReject?.();
      return false;
    }
    version++;
    table.current = next.table;
    options.log(`config version ${version} in service`);
    options.onSwap?.(next.table);
    return true;
  }
  // one reload at a time; changes that arrive meanwhile fold into one more reload
  function reload(): Promise<boolean> {
    if (running) {
      again = true;
      return running;
    }
    running = reloadOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        void reload();
      }
    });
    return running;
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const watch = platform.watch(options.paths, () => {
    clearTimeout(timer);
    // editors write a file in several steps; wait for them to settle
    timer = setTimeout(() => void reload(), 50);
  });
  return { table, reload, close: () => { clearTimeout(timer); watch.close(); } };
}
