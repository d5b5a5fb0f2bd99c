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
