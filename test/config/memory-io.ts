// An in-memory file tree for config tests: { "dir/a.yaml": "..." } answers readTextFile, readDir
// and isDirectory the way runtime/platform does, without touching the disk.
import type { ConfigIO } from "../../runtime/config/files.ts";

export function memoryIO(files: Record<string, string>): ConfigIO {
  const isDir = (path: string) => Object.keys(files).some((f) => f.startsWith(`${path.replace(/\/$/, "")}/`));
  return {
    async readTextFile(path) {
      if (!(path in files)) throw new Error(`ENOENT: no such file ${path}`);
      return files[path];
    },
    async readDir(path) {
      const prefix = `${path.replace(/\/$/, "")}/`;
      const names = Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split("/")[0]);
      if (!names.length) throw new Error(`ENOENT: no such folder ${path}`);
      return [...new Set(names)].sort();
    },
    async isDirectory(path) {
      return isDir(path);
    },
  };
}
