// Files and folders of Istio YAML → one validated, deeply frozen MeshConfig, or every reason why not.
// A change with any error is rejected whole (config undefined) so the last good config stays in
// service. File I/O is passed in: this module never names a runtime.
import { YamlPackageNeeded, loadYamlPackage, parseYamlDocuments } from "./yaml-docs.ts";
import { loadRegexEngine } from "../routing/regex.ts";
import { enginesNeeded } from "./load-engines.ts";
import { collectFiles, type ConfigIO } from "./files.ts";
import { FileLoader } from "./load-resources.ts";
import { assembleConfig, deepFreeze, readFailure, type FileEntry, type LoadResult } from "./assemble.ts";

export type { ConfigIO } from "./files.ts";
export type { LoadResult, SkippedResource } from "./assemble.ts";
export { deepFreeze } from "./assemble.ts";
// objects (the library's `resources`) are validated by load-resources.ts, which loads no YAML parser
export { loadResources } from "./load-resources.ts";

export interface LoadOptions extends ConfigIO {
  /** namespace for resources whose metadata has none (kubectl's -n) */
  defaultNamespace: string;
  /** descend into sub-folders of a named folder; off by default, like kubectl apply -f */
  recursive?: boolean;
}

const mayHoldRegex = (text: string) => text.includes("egex") || text.includes("\\");

/**
 * One file's text → its entries (resources, errors, notices, skipped kinds, in order), to be put
 * together with the other files' by assembleConfig. A reload re-runs this only for changed files.
 * What it needs is loaded on the way (issue 16 cold start): re2js when a document has a regex to
 * validate, the `yaml` package when the fast readers cannot read the text or an error needs the
 * line of its field — then the file is read again with it.
 */
export async function loadFileEntries(file: string, text: string, defaultNamespace: string): Promise<FileEntry[]> {
  for (;;) {
    try {
      const docs = parseYamlDocuments(text);
      // zod validates regexes synchronously; a text with neither "egex" (regex, uriRegexRewrite) nor
      // an escape that could spell it is not walked (10,000 services: 101 files of plain data)
      if (mayHoldRegex(text) && enginesNeeded(docs.map((d) => d.value)).regex) await loadRegexEngine();
      const loader = new FileLoader(defaultNamespace);
      for (const doc of docs) loader.document(file, doc);
      return loader.entries;
    } catch (e) {
      if (!(e instanceof YamlPackageNeeded)) throw e;
      await loadYamlPackage(); // once: after it nothing throws this again
    }
  }
}

/**
 * Loads files and folders (folders: their *.yaml, *.yml and *.json files, sorted by name, not
 * recursive unless asked) into one MeshConfig. Everything returned is deeply frozen.
 */
export async function loadConfig(paths: string[], options: LoadOptions): Promise<LoadResult> {
  const { collected, perFile } = await loadPerFile(paths, options);
  return deepFreeze(assembleConfig(collected, perFile));
}

/** the files' entries, each file's apart (what `dietmesh check --emit` seals), and what collecting them found */
export async function loadPerFile(paths: string[], options: LoadOptions): Promise<{ collected: Awaited<ReturnType<typeof collectFiles>>; perFile: FileEntry[][] }> {
  const collected = await collectFiles(paths, options, options.recursive ?? false);
  const perFile: FileEntry[][] = [];
  for (const file of collected.files) {
    let text: string;
    try {
      text = await options.readTextFile(file);
    } catch (e) {
      perFile.push(readFailure(file, e));
      continue;
    }
    perFile.push(await loadFileEntries(file, text, options.defaultNamespace));
  }
  return { collected, perFile };
}
