// A multi-document manifest in, the same documents out: untouched documents keep their source text
// byte for byte; changed ones are patched node by node, so comments, quoting and field order
// outside what inject added survive. Read as YAML 1.1, as Kubernetes reads it (`on` and `yes` are
// booleans there), which also makes every string inject adds quoted where Kubernetes would misread it.
import { Document, LineCounter, isMap, isNode, isScalar, isSeq, parseAllDocuments } from "yaml";
import type { FieldPath } from "./errors.ts";
import { startOf } from "../config/yaml-docs.ts";
import { isObject } from "./pod-template.ts";

export interface ManifestDocument {
  /** 0-based position in the input */
  index: number;
  /** the document as plain data (undefined when empty); change a copy and hand it to render */
  value: unknown;
  /** the document's own text, without its --- marker */
  source: string;
  /** why the document could not be read (value is then undefined) */
  syntaxError?: { message: string; line?: number };
  /** the 1-based line of the field at path, or of its nearest ancestor that exists */
  lineOf(path: FieldPath): number | undefined;
  /** the document's text with value's changes applied, or its source when there are none */
  render(changed: unknown): string;
}

/** new nodes repeat shared objects in full: no &anchors and *aliases in a pod spec */
const CREATE = { aliasDuplicateObjects: false };

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** writes the difference between before and after into the document at path */
function patch(doc: Document, path: FieldPath, before: unknown, after: unknown): void {
  if (deepEqual(before, after)) return;
  const node = path.length ? doc.getIn(path, true) : doc.contents;
  if (isObject(before) && isObject(after) && isMap(node)) {
    for (const key of Object.keys(after)) {
      if (key in before) patch(doc, [...path, key], before[key], after[key]);
      else doc.setIn([...path, key], doc.createNode(after[key], CREATE));
    }
    for (const key of Object.keys(before)) if (!(key in after)) doc.deleteIn([...path, key]);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && isSeq(node)) {
    const n = before.length;
    if (after.length === n) return after.forEach((item, i) => patch(doc, [...path, i], before[i], item));
    // items added at the end (env) or the start (initContainers) leave the others' nodes alone
    if (after.length > n && deepEqual(before, after.slice(0, n))) {
      for (const item of after.slice(n)) node.items.push(doc.createNode(item, CREATE));
      return;
    }
    if (after.length > n && deepEqual(before, after.slice(after.length - n))) {
      node.items.unshift(...after.slice(0, after.length - n).map((item) => doc.createNode(item, CREATE)));
      return;
    }
  }
  if (path.length) doc.setIn(path, doc.createNode(after, CREATE));
  else doc.contents = doc.createNode(after, CREATE) as typeof doc.contents;
}

/** --- and ... markers, which the output writes itself */
const clean = (text: string) => text.replace(/^---[ \t]*(\r?\n)?/, "").replace(/(^|\n)\.\.\.[ \t]*\s*$/, "$1").replace(/\s*$/, "\n");

export function parseManifest(text: string): ManifestDocument[] {
  const lines = new LineCounter();
  const docs = Array.from(parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, version: "1.1" }));
  const lineOf = (doc: Document, path: FieldPath) => {
    for (let n = path.length; n >= 0; n--) {
      const offset = startOf(doc, path.slice(0, n), { isMap, isNode, isScalar });
      if (offset !== undefined) return lines.linePos(offset).line;
    }
    return undefined;
  };
  return docs.map((doc, index) => {
    const start = index === 0 ? 0 : doc.range[0];
    const source = clean(text.slice(start, index + 1 < docs.length ? docs[index + 1].range[0] : text.length));
    let syntaxError: ManifestDocument["syntaxError"];
    let value: unknown;
    const [error] = doc.errors;
    if (error) syntaxError = { message: error.message.split("\n")[0], line: lines.linePos(error.pos[0]).line };
    else if (doc.contents !== null) {
      try {
        value = doc.toJS({ maxAliasCount: 100 }); // alias bombs ("billion laughs") stop here
      } catch (e) {
        syntaxError = { message: (e as Error).message, line: lines.linePos(doc.range[0]).line };
      }
    }
    return {
      index,
      value,
      source,
      syntaxError,
      lineOf: (path) => lineOf(doc, path),
      render(changed) {
        if (deepEqual(value, changed)) return source;
        try {
          patch(doc, [], value, changed);
        } catch {
          // a change through an alias (*anchor) cannot be patched in place: write the document anew
          const fresh = new Document(changed, { version: "1.1", aliasDuplicateObjects: false });
          fresh.commentBefore = doc.commentBefore;
          return clean(fresh.toString({ lineWidth: 0, indentSeq: false }));
        }
        return clean(doc.toString({ lineWidth: 0, indentSeq: false }));
      },
    };
  });
}
