// Which files a list of config paths names: files as given, folders expanded to their YAML and
// JSON files in name order. The I/O is passed in so the config code stays runtime-free.
import type { ConfigError } from "./errors.ts";

export interface ConfigIO {
  readTextFile(path: string): Promise<string>;
  /** names in a folder, sorted */
  readDir(path: string): Promise<string[]>;
  /** false for files and for paths that do not exist */
  isDirectory(path: string): Promise<boolean>;
}

const CONFIG_FILE = /\.(ya?ml|json)$/i;

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * Folders contribute *.yaml, *.yml and *.json, sorted, skipping dot-files (editor backups);
 * sub-folders only when recursive. A file named explicitly is read whatever its name.
 * A file reached twice is read once.
 */
export async function collectFiles(
  paths: string[],
  io: ConfigIO,
  recursive: boolean,
): Promise<{ files: string[]; errors: ConfigError[]; notices: ConfigError[] }> {
  const files: string[] = [];
  const errors: ConfigError[] = [];
  const notices: ConfigError[] = [];
  const add = (f: string) => files.includes(f) || files.push(f);

  async function walk(dir: string): Promise<void> {
    let names: string[];
    try {
      names = [...(await io.readDir(dir))].sort();
    } catch (e) {
      errors.push({ code: "io", severity: "error", file: dir, message: `cannot read the folder: ${(e as Error).message}` });
      return;
    }
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const path = join(dir, name);
      if (recursive && (await io.isDirectory(path))) await walk(path);
      else if (CONFIG_FILE.test(name)) add(path);
    }
  }

  for (const path of paths) {
    if (!(await io.isDirectory(path))) {
      add(path);
      continue;
    }
    const [fileCount, errorCount] = [files.length, errors.length];
    await walk(path);
    if (files.length === fileCount && errors.length === errorCount) {
      // not an error (an empty folder is a valid, empty config) but rarely what was meant
      notices.push({ code: "io", severity: "info", file: path, message: "no *.yaml, *.yml or *.json files in this folder" });
    }
  }
  return { files, errors, notices };
}

function parentOf(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const i = trimmed.lastIndexOf("/");
  return i === -1 ? "." : i === 0 ? "/" : trimmed.slice(0, i);
}

function baseName(path: string): string {
  return path.replace(/\/+$/, "").slice(path.replace(/\/+$/, "").lastIndexOf("/") + 1);
}

/** Kubernetes' atomic writer (ConfigMap and Secret volumes) swaps a `..data` symlink; the files are links through it */
const KUBERNETES_SWAP = "..data";

/** a folder to watch and which entries of it are config */
export interface WatchTarget {
  dir: string;
  accepts(name: string): boolean;
}

/**
 * What to watch for a list of config paths: a folder's own config files (what collectFiles reads
 * from it), and for a file only that file — never the rest of its folder, where a log file
 * written by the proxy itself made a reload loop.
 */
export async function watchTargets(paths: string[], io: Pick<ConfigIO, "isDirectory">): Promise<WatchTarget[]> {
  const byDir = new Map<string, ((name: string) => boolean)[]>();
  const add = (dir: string, accepts: (name: string) => boolean) => byDir.set(dir, [...(byDir.get(dir) ?? []), accepts]);
  for (const path of paths) {
    if (await io.isDirectory(path)) add(path, (name) => name === KUBERNETES_SWAP || (!name.startsWith(".") && CONFIG_FILE.test(name)));
    else {
      const file = baseName(path);
      add(parentOf(path), (name) => name === file || name === KUBERNETES_SWAP);
    }
  }
  return [...byDir].map(([dir, tests]) => ({ dir, accepts: (name) => tests.some((t) => t(name)) }));
}

/**
 * The config files' names and contents as one string: two snapshots are equal exactly when a load
 * would read the same bytes (files that are not config never count).
 */
export async function configSnapshot(paths: string[], io: ConfigIO): Promise<string> {
  const { files, errors } = await collectFiles(paths, io, false);
  const parts = errors.map((e) => `!${e.file}`);
  for (const file of files) {
    try {
      parts.push(`${file}\0${await io.readTextFile(file)}`);
    } catch (e) {
      parts.push(`!${file}\0${(e as Error).message}`);
    }
  }
  return parts.join("\0\0");
}
