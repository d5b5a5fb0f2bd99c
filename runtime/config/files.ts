// Which files a list of config paths names: files as given, folders expanded to their YAML and
// JSON files in name order. The I/O is passed in so the config code stays runtime-free.
import type { ConfigError } from "./errors.ts";
import type { FileIdentity } from "../platform/types.ts";

export interface ConfigIO {
  readTextFile(path: string): Promise<string>;
  /** names in a folder, sorted */
  readDir(path: string): Promise<string[]>;
  /** false for files and for paths that do not exist */
  isDirectory(path: string): Promise<boolean>;
  /** readTextFile and which file it read (platform.readTextFileWithIdentity); without it no read knows */
  readTextFileWithIdentity?(path: string): Promise<{ text: string; identity: FileIdentity }>;
  /** the identity alone, from a stat (platform.fileIdentity): lets a read skip files left alone */
  fileIdentity?(path: string): Promise<FileIdentity>;
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

const READ_AT_ONCE = 8;

/** the config files as read at one moment: their texts (or why one could not be read) */
export interface FilesRead {
  /** folders that could not be listed */
  readonly failed: readonly string[];
  readonly files: readonly string[];
  /** what each file held; none for a file in `unchanged` */
  readonly texts: ReadonlyMap<string, string | Error>;
  /** which file each text came from (where the I/O can say) */
  readonly identities?: ReadonlyMap<string, FileIdentity>;
  /** files not read: their identity says they hold what the `since` read found (readConfigFiles) */
  readonly unchanged?: ReadonlySet<string>;
  /** when this read began (ms since the epoch): a later read's reference for what was left alone */
  readonly startedMs?: number;
}

/**
 * A file whose identity — device and inode, modification and change times, size — is what an
 * earlier read saw, and whose modification time was already this far behind that read's start,
 * holds what that read found: any write since would have stamped a time after the read began,
 * even on a file system that rounds times down by up to 2 s (FAT's granularity; ext4 and
 * overlayfs keep nanoseconds, tmpfs a few ms). git trusts the same stat data to skip unchanged
 * files, with the same caution for files written just before it looked ("racy" entries).
 */
export const LEFT_ALONE_MS = 2_000;

/** an earlier read's identities and start, for readConfigFiles to skip the files left alone since */
export interface ReadReference {
  readonly identities?: ReadonlyMap<string, FileIdentity>;
  readonly startedMs?: number;
}

/**
 * What configSnapshot compares, kept as the texts themselves: the watcher compares two reads with
 * sameFiles and hands the confirmed one to the loader, which then need not read the files again.
 * With `since` (the read the config in service came from) and an I/O that can stat, a file left
 * alone since that read is stat'ed, not read: it goes in `unchanged` with no text (at 10,000
 * services, a one-file change read 101 files, 7.4 MB, in ~65 ms; now it stats 100 and reads one).
 */
export async function readConfigFiles(paths: string[], io: ConfigIO, since?: ReadReference): Promise<FilesRead> {
  const startedMs = Date.now();
  const { files, errors } = await collectFiles(paths, io, false);
  // in the files' order, whichever read ends first
  const texts = new Map<string, string | Error>(files.map((f) => [f, new Error("not read")]));
  const identities = new Map<string, FileIdentity>();
  const unchanged = new Set<string>();
  const failure = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
  const leftAlone = async (file: string): Promise<boolean> => {
    const known = since?.identities?.get(file);
    if (!known || since?.startedMs === undefined || !io.fileIdentity) return false;
    // no modification time (a file system that keeps none): only a read can tell
    if (!(known.modifiedMs > 0) || known.modifiedMs > since.startedMs - LEFT_ALONE_MS) return false;
    const now = await io.fileIdentity(file).catch(() => undefined);
    if (now?.id !== known.id || now.stamp !== known.stamp) return false;
    texts.delete(file);
    identities.set(file, now);
    unchanged.add(file);
    return true;
  };
  const readOne = async (file: string) => {
    if (await leftAlone(file)) return;
    if (!io.readTextFileWithIdentity) {
      texts.set(file, await io.readTextFile(file).catch(failure));
      return;
    }
    try {
      const { text, identity } = await io.readTextFileWithIdentity(file);
      texts.set(file, text);
      identities.set(file, identity);
    } catch (e) {
      texts.set(file, failure(e));
    }
  };
  // a few at a time: a read with identity is four calls (open, stat, read, close), and one after
  // the other they cost 3-6 × a plain read; all at once, a folder of thousands would run out of descriptors
  let next = 0;
  const reader = async () => {
    while (next < files.length) await readOne(files[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(READ_AT_ONCE, files.length) }, reader));
  return {
    failed: errors.map((e) => e.file),
    files,
    texts,
    ...(io.readTextFileWithIdentity ? { identities } : {}),
    ...(unchanged.size ? { unchanged } : {}),
    startedMs,
  };
}

/**
 * Whether `now` differs from the read `before` came from only by files replaced whole: at least one
 * file has a new identity (renamed over, or reached through a swapped symlink), and every other
 * file is the same file, unwritten. Such a change is complete by construction and needs no settle
 * time. A file added, removed or unreadable, or any file written in place, says no: those settle.
 * The limit: a writer that deletes a file and writes a new one in pieces also makes a new identity.
 */
export function replacedWhole(before: ReadonlyMap<string, FileIdentity> | undefined, now: FilesRead): boolean {
  if (!before || !now.identities || now.failed.length || now.files.length !== before.size) return false;
  let replaced = false;
  for (const file of now.files) {
    const [was, is] = [before.get(file), now.identities.get(file)];
    if (!was || !is) return false;
    if (was.id !== is.id) replaced = true;
    else if (was.stamp !== is.stamp) return false;
  }
  return replaced;
}

/**
 * true exactly when a load would read the same bytes from both (as configSnapshot's ===); a file
 * left alone in both reads (against the same reference) counts as the same, in one of them only
 * as different (the settle reads again)
 */
export function sameFiles(a: FilesRead, b: FilesRead): boolean {
  const sameList = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!sameList(a.failed, b.failed) || !sameList(a.files, b.files)) return false;
  return a.files.every((f) => {
    const [left, right] = [a.unchanged?.has(f) ?? false, b.unchanged?.has(f) ?? false];
    if (left || right) return left && right;
    const [x, y] = [a.texts.get(f), b.texts.get(f)];
    return typeof x === "string" || typeof y === "string" ? x === y : x?.message === y?.message;
  });
}

/**
 * file I/O that answers reads from `read` (a confirmed FilesRead) and goes to `io` for the rest
 * (a file in `read.unchanged` too: a caller that keeps what it parsed asks for none of those)
 */
export function readFromFiles(read: FilesRead, io: ConfigIO): ConfigIO {
  return {
    readTextFile: (path) => {
      const text = read.texts.get(path);
      if (text === undefined) return io.readTextFile(path);
      return typeof text === "string" ? Promise.resolve(text) : Promise.reject(text);
    },
    readDir: (path) => io.readDir(path),
    isDirectory: (path) => io.isDirectory(path),
  };
}
