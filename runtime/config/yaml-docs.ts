// Multi-document YAML (JSON too: YAML 1.2 reads it) → one entry per document with its plain value,
// its syntax errors with line numbers, and a way back from a field path to the line it sits on.
// Values come from a fast parser when yaml-fast.ts finds the text plain enough — the runtime's own
// (Bun, ~15x faster) or else yaml-plain.ts's reader of that subset (Deno, ~25x faster) — and lines
// and every error from the `yaml` package, parsed lazily on the fast path. That package is itself
// loaded only when needed (loadYamlPackage): a config the fast readers read, with no error to place
// on a line, never loads it (~30 ms of a cold start on Bun, issue 16).
import type { Document } from "yaml";
import { platform } from "../platform/index.ts";
import { fastDocuments, type NativeYaml } from "./yaml-fast.ts";
import { parsePlainYaml } from "./yaml-plain.ts";

type YamlPackage = typeof import("yaml");
let yamlPackage: YamlPackage | undefined;

/** thrown where the `yaml` package is needed and not loaded yet: await loadYamlPackage(), then again */
export class YamlPackageNeeded extends Error {
  constructor() {
    super("the yaml package is not loaded yet (config/yaml-docs.ts loadYamlPackage)");
  }
}

export async function loadYamlPackage(): Promise<void> {
  yamlPackage ??= await import("yaml");
}

/** whether loadYamlPackage has run (for the tests of what a load loads) */
export const yamlPackageLoaded = (): boolean => yamlPackage !== undefined;

function yamlApi(): YamlPackage {
  if (!yamlPackage) throw new YamlPackageNeeded();
  return yamlPackage;
}

export interface YamlProblem {
  message: string;
  line?: number;
}

export interface YamlDocument {
  /** 0-based position in the file */
  index: number;
  /** the document as plain data; undefined when it is empty or did not parse */
  value: unknown;
  errors: YamlProblem[];
  /** the 1-based line of the field at path, or of its nearest ancestor that exists */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * where the field at path starts in the text (also used by `dietmesh inject` for its error lines,
 * which passes the node tests of the yaml package it imported)
 */
export function startOf(doc: Document, path: readonly PropertyKey[], y: Pick<YamlPackage, "isMap" | "isNode" | "isScalar"> = yamlApi()): number | undefined {
  const { isMap, isNode, isScalar } = y;
  // a map key: point at the key itself, since a nested value starts on the next line
  const last = path.at(-1);
  if (typeof last === "string") {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
  }
  const node = path.length ? doc.getIn(path, true) : doc.contents;
  return isNode(node) && node.range ? node.range[0] : undefined;
}

export function parseYamlDocuments(text: string, native: NativeYaml | undefined = platform.parseYaml ?? parsePlainYaml): YamlDocument[] {
  const values = native && fastDocuments(text, native);
  if (values) {
    // positions only when a document fails validation or a notice names a field: parse then
    let slow: YamlDocument[] | undefined;
    return values.map((value, index) => ({
      index,
      value,
      errors: [],
      lineOf: (path) => (slow ??= slowDocuments(text))[index]?.lineOf(path),
    }));
  }
  return slowDocuments(text);
}

/** the `yaml` package's reading: values, errors with lines, and lines of fields (throws YamlPackageNeeded before loadYamlPackage) */
export function slowDocuments(text: string): YamlDocument[] {
  const y = yamlApi();
  const lines = new y.LineCounter();
  // YAML 1.2 core schema: "yes", "on" stay strings; unique keys, as Kubernetes' decoder wants
  const docs = y.parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number) => lines.linePos(offset).line;
  return Array.from(docs, (doc, index) => {
    const errors = doc.errors.map((e) => ({ message: e.message.split("\n")[0], line: lineAt(e.pos[0]) }));
    let value: unknown;
    if (!errors.length && doc.contents !== null) {
      try {
        value = doc.toJS({ maxAliasCount: 100 }); // alias bombs ("billion laughs") stop here
      } catch (e) {
        errors.push({ message: (e as Error).message, line: lineAt(doc.range[0]) });
      }
    }
    return {
      index,
      value,
      errors,
      lineOf(path) {
        for (let n = path.length; n >= 0; n--) {
          const offset = startOf(doc, path.slice(0, n), y);
          if (offset !== undefined) return lineAt(offset);
        }
        return undefined;
      },
    };
  });
}
