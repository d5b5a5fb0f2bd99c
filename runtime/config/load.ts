// Files and folders of Istio YAML → one validated, deeply frozen MeshConfig, or every reason why not.
// A change with any error is rejected whole (config undefined) so the last good config stays in
// service. File I/O is passed in: this module never names a runtime.
import { RE2JS } from "re2js";
import { parseYamlDocuments } from "./yaml-docs.ts";
import { installRegexEngine } from "../routing/regex.ts";
import { collectFiles, type ConfigIO } from "./files.ts";
import { FileLoader } from "./load-resources.ts";
import { assembleConfig, deepFreeze, readFailure, type FileEntry, type LoadResult } from "./assemble.ts";

export type { ConfigIO } from "./files.ts";
export type { LoadResult, SkippedResource } from "./assemble.ts";
export { deepFreeze } from "./assemble.ts";
// objects (the library's `resources`) are validated by load-resources.ts, which loads no YAML parser
export { loadResources } from "./load-resources.ts";

// file loading (a short-lived worker on Bun) holds the YAML parser and the schemas anyway: the RE2
// engine that validates regexes comes with it rather than per file (objects: load-engines.ts)
installRegexEngine(RE2JS);

export interface LoadOptions extends ConfigIO {
  /** namespace for resources whose metadata has none (kubectl's -n) */
  defaultNamespace: string;
  /** descend into sub-folders of a named folder; off by default, like kubectl apply -f */
  recursive?: boolean;
}

/**
 * One file's text → its entries (resources, errors, notices, skipped kinds, in order), to be put
 * together with the other files' by assembleConfig. A reload re-runs this only for changed files.
 */
export function loadFileEntries(file: string, text: string, defaultNamespace: string): FileEntry[] {
  const loader = new FileLoader(defaultNamespace);
  for (const doc of parseYamlDocuments(text)) loader.document(file, doc);
  return loader.entries;
}

/**
 * Loads files and folders (folders: their *.yaml, *.yml and *.json files, sorted by name, not
 * recursive unless asked) into one MeshConfig. Everything returned is deeply frozen.
 */
export async function loadConfig(paths: string[], options: LoadOptions): Promise<LoadResult> {
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
    perFile.push(loadFileEntries(file, text, options.defaultNamespace));
  }
  return deepFreeze(assembleConfig(collected, perFile));
}
