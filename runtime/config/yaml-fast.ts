// The fast path for YAML: split a file into its documents and parse each with the runtime's own
// parser (Bun's YAML), but only when a cheap line scan proves the text avoids every construct on
// which that parser and the `yaml` package (YAML 1.2 core schema, unique keys) disagree. Anything
// the scan does not fully understand answers undefined, and yaml-docs.ts uses the `yaml` package:
// the fast path may be skipped, it must never change a value or hide an error.
//
// Where they disagree (measured, test/config/yaml-fast.test.ts): duplicate keys (Bun keeps the
// last, `yaml` refuses), merge keys `<<` (Bun merges), tags (`!!int '1'`, `!!binary`, `!!set`),
// signed or large hex and octal (`-0x1` is a string for `yaml`), `%YAML 1.1` directives, complex
// keys, and Bun returning one value for a one-document stream but an array for several. Aliases
// are refused too so that the `yaml` package's alias-count limit (alias bombs) keeps applying.

/** one document's text → its value, throwing on any error */
export type NativeYaml = (text: string) => unknown;

/**
 * The values of text's documents, in the `yaml` package's document order and count (an empty
 * document is null, as the `yaml` package's toJS gives); undefined when the text needs the `yaml` package (a risky construct, a
 * duplicate key, or the fast parser failed — the `yaml` package then gives the error its line).
 */
export function fastDocuments(text: string, parse: NativeYaml): unknown[] | undefined {
  const docs = scanDocuments(text);
  if (!docs) return undefined;
  const values: unknown[] = [];
  for (const doc of docs) {
    if (!doc.content) {
      values.push(null);
      continue;
    }
    try {
      values.push(parse(text.slice(doc.start, doc.end)));
    } catch {
      return undefined;
    }
  }
  return values;
}

interface DocSpan {
  start: number;
  end: number;
  /** any line other than blank or comment */
  content: boolean;
}

/** a block mapping being read: the column of its keys and the keys seen */
interface BlockMap {
  indent: number;
  keys: Set<string>;
}

const BOOLEAN_OR_NULL = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;
/** plain keys taken as they are: a letter or _ first, no spaces, never a bool/null/number */
const SAFE_KEY = /^[A-Za-z_][\w.\/-]*$/;
/** keys with a meaning beyond their text: a merge key however written, and the prototype */
const UNSAFE_QUOTED_KEY = new Set(["<<", "__proto__"]);
/** plain scalars the two parsers read differently: signed or long hex/octal (measured) */
const RISKY_PLAIN = /^[-+]?0[xXoO]/;
/** characters that open a node neither path treats alike: anchors, aliases, tags, complex keys, directives, reserved */
const REFUSED_START = new Set(["&", "*", "!", "?", "%", "@", "`"]);

/** the documents of text (spans after each `---` line), or undefined when the text is not plain enough */
export function scanDocuments(text: string): DocSpan[] | undefined {
  // tabs, carriage returns and a byte-order mark change indentation and line rules: not worth the risk
  if (text.includes("\t") || text.includes("\r") || text.charCodeAt(0) === 0xfeff) return undefined;
  const docs: DocSpan[] = [];
  let doc: DocSpan = { start: 0, end: 0, content: false };
  let explicit = false; // the current document began with `---`
  let maps: BlockMap[] = [];
  let blockScalarParent = -1; // inside a block scalar: lines indented more than this belong to it
  let pos = 0;
  while (pos <= text.length) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = text.length;
    const line = text.slice(pos, eol);
    const lineStart = pos;
    pos = eol + 1;
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    const blank = indent === line.length || line[indent] === "#";

    if (line.startsWith("---") && (line.length === 3 || line[3] === " ")) {
      if (line.slice(3).trim() && !line.slice(3).trim().startsWith("#")) return undefined; // content on the marker line
      if (explicit || doc.content) docs.push({ ...doc, end: lineStart });
      doc = { start: pos > text.length ? text.length : pos, end: 0, content: false };
      explicit = true;
      maps = [];
      blockScalarParent = -1;
      continue;
    }
    if (line.startsWith("...") && (line.length === 3 || line[3] === " ")) return undefined;
    if (blockScalarParent >= 0) {
      if (blank || indent > blockScalarParent) continue;
      blockScalarParent = -1;
    }
    if (blank) continue;
    doc.content = true;
    const r = scanLine(line, indent, maps);
    if (r === undefined) return undefined;
    blockScalarParent = r;
  }
  if (explicit || doc.content) docs.push({ ...doc, end: text.length });
  return docs;
}

/**
 * One content line of block YAML. Returns -1, or the column a block scalar's lines must exceed when
 * the line opens one; undefined when the line holds something the fast path does not take.
 */
function scanLine(line: string, indent: number, maps: BlockMap[]): number | undefined {
  let col = indent;
  let sawDash = false;
  // sequence entries: `- `, possibly nested (`- - a`); each entry's mapping starts fresh
  while (line[col] === "-" && (col + 1 === line.length || line[col + 1] === " ")) {
    popDeeper(maps, col);
    sawDash = true;
    col++;
    while (line.charCodeAt(col) === 32) col++;
    popDeeper(maps, col - 1);
    if (col >= line.length || line[col] === "#") return -1; // an entry whose value follows on the next lines
  }
  const c = line[col];
  if (REFUSED_START.has(c) || c === "|" || c === ">") return undefined;
  // a flow collection or a quoted scalar as an entry or as the whole document; a key made of one is refused
  let key: string | undefined;
  let after: number;
  if (c === "{" || c === "[") {
    const end = scanFlow(line, col);
    return end !== undefined && restIsEmpty(line, end) ? -1 : undefined;
  }
  if (c === '"' || c === "'") {
    const q = quoted(line, col);
    if (!q) return undefined;
    let i = q.end;
    while (line.charCodeAt(i) === 32) i++;
    if (line[i] !== ":") return restIsEmpty(line, q.end) ? -1 : undefined;
    if (q.key === undefined || UNSAFE_QUOTED_KEY.has(q.key) || (i + 1 < line.length && line[i + 1] !== " ")) return undefined;
    key = q.key;
    after = i + 1;
  } else {
    const colon = plainKeyEnd(line, col);
    if (colon < 0) {
      // a plain scalar with no key: fine as a sequence entry, refused as a continuation line
      if (!sawDash) return undefined;
      return plainValueOk(line, col) ? -1 : undefined;
    }
    key = line.slice(col, colon).trimEnd();
    if (!SAFE_KEY.test(key) || BOOLEAN_OR_NULL.test(key) || key === "__proto__") return undefined; // also refuses `<<`
    after = colon + 1;
  }
  // YAML caps an implicit key at 1024 characters (the `yaml` package refuses longer ones; Bun does not)
  if (after - col > 1000) return undefined;
  popDeeper(maps, col);
  let map = maps.at(-1);
  if (!map || map.indent !== col) {
    map = { indent: col, keys: new Set() };
    maps.push(map);
  }
  if (map.keys.has(key)) return undefined; // a duplicate: the `yaml` package reports it with its line
  map.keys.add(key);
  return value(line, after, col);
}

/** what follows `key:` on its line */
function value(line: string, from: number, keyCol: number): number | undefined {
  let i = from;
  while (line.charCodeAt(i) === 32) i++;
  if (i >= line.length || line[i] === "#") return -1;
  const c = line[i];
  if (c === "{" || c === "[") {
    const end = scanFlow(line, i);
    return end !== undefined && restIsEmpty(line, end) ? -1 : undefined;
  }
  if (c === '"' || c === "'") {
    const q = quoted(line, i);
    return q && restIsEmpty(line, q.end) ? -1 : undefined;
  }
  if (c === "|" || c === ">") {
    // a block scalar header: indicators and a comment only
    return /^[|>][-+0-9]*( +#.*)? *$/.test(line.slice(i)) ? keyCol : undefined;
  }
  if (REFUSED_START.has(c) || c === "-" && line[i + 1] === " ") return undefined;
  return plainValueOk(line, i) ? -1 : undefined;
}

/** a plain scalar to the end of the line (before a comment): no `: ` inside, not a risky number */
function plainValueOk(line: string, from: number): boolean {
  const c = line[from];
  if (REFUSED_START.has(c) || c === "|" || c === ">" || c === "," || c === "]" || c === "}") return false;
  const hash = line.indexOf(" #", from);
  const text = (hash < 0 ? line.slice(from) : line.slice(from, hash)).trimEnd();
  if (text.includes(": ") || text.endsWith(":")) return false;
  return !risky(text);
}

/** the index of the `:` ending a plain key that starts at from, or -1 */
function plainKeyEnd(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === COLON && (i + 1 === line.length || line.charCodeAt(i + 1) === SPACE)) return i;
    if (ch === HASH && line.charCodeAt(i - 1) === SPACE) return -1;
  }
  return -1;
}

const SPACE = 32, HASH = 35, COLON = 58;
/** , [ ] { } */
const isFlowEnd = (c: number) => c === 44 || c === 91 || c === 93 || c === 123 || c === 125;
/** a plain scalar that may be a signed or long hex/octal (the regex only when it starts like one) */
const risky = (text: string) => {
  const c = text.charCodeAt(0);
  return (c === 48 || c === 43 || c === 45) && RISKY_PLAIN.test(text);
};

/** nothing but spaces and a comment (which needs a space before its #) from here to the end */
function restIsEmpty(line: string, from: number): boolean {
  let i = from;
  while (line.charCodeAt(i) === 32) i++;
  return i >= line.length || (line[i] === "#" && i > from);
}

function popDeeper(maps: BlockMap[], col: number) {
  while (maps.length && maps[maps.length - 1].indent > col) maps.pop();
}

/** a quoted scalar closed on this line: its end, and its text when usable as a key (no escapes) */
function quoted(line: string, from: number): { end: number; key?: string } | undefined {
  const q = line[from];
  let escapes = false;
  for (let i = from + 1; i < line.length; i++) {
    const ch = line[i];
    if (q === '"' && ch === "\\") {
      escapes = true;
      i++;
    } else if (ch === q) {
      if (q === "'" && line[i + 1] === "'") {
        escapes = true;
        i++;
        continue;
      }
      return { end: i + 1, key: escapes ? undefined : line.slice(from + 1, i) };
    }
  }
  return undefined; // spans lines
}

/**
 * A flow collection opening at from and closing on the same line: the index after it, or
 * undefined. Checks its mappings' keys for duplicates and its scalars as a block line's are.
 */
function scanFlow(line: string, from: number): number | undefined {
  // module-level cursor instead of closures: this runs for most lines of a large config
  flowLine = line;
  at = from;
  depth = 0;
  return flowCollection();
}

let flowLine = "";
let at = 0;
let depth = 0;
/** flow collections nested deeper go to the `yaml` package, which reports its own stack limit as an error */
const MAX_FLOW_DEPTH = 64;

function skipSpaces() {
  while (flowLine.charCodeAt(at) === SPACE) at++;
}

/** one node at the cursor: its key text when it is a scalar usable as a key ("" when not) */
function flowNode(): string | undefined {
  const line = flowLine;
  skipSpaces();
  const c = line[at];
  if (c === "{" || c === "[") return flowCollection() === undefined ? undefined : "";
  if (c === '"' || c === "'") {
    const q = quoted(line, at);
    if (!q) return undefined;
    at = q.end;
    return q.key !== undefined && !UNSAFE_QUOTED_KEY.has(q.key) ? q.key : "";
  }
  if (c === undefined || c === "#" || REFUSED_START.has(c) || isFlowEnd(line.charCodeAt(at)) || c === "|" || c === ">" || c === ":") return undefined;
  const start = at;
  let i = at;
  while (i < line.length) {
    const ch = line.charCodeAt(i);
    if (isFlowEnd(ch)) break;
    if (ch === COLON) {
      const next = line.charCodeAt(i + 1);
      if (i + 1 === line.length || next === SPACE || isFlowEnd(next)) break;
    }
    if (ch === HASH && line.charCodeAt(i - 1) === SPACE) return undefined;
    i++;
  }
  at = i;
  const text = line.slice(start, i).trimEnd();
  if (risky(text)) return undefined;
  return SAFE_KEY.test(text) && !BOOLEAN_OR_NULL.test(text) && text !== "__proto__" ? text : "";
}

/** the collection at the cursor: the index after it */
function flowCollection(): number | undefined {
  const line = flowLine;
  const isMap = line[at] === "{";
  const close = isMap ? "}" : "]";
  let keys: Set<string> | undefined;
  if (++depth > MAX_FLOW_DEPTH) return undefined;
  at++;
  for (;;) {
    skipSpaces();
    if (line[at] === close) {
      depth--;
      return ++at;
    }
    const k = flowNode();
    if (k === undefined) return undefined;
    skipSpaces();
    if (isMap) {
      // every entry `key: value` with a plain or unescaped quoted key, each key once
      if (line[at] !== ":" || !k || keys?.has(k)) return undefined;
      (keys ??= new Set()).add(k);
      at++;
      if (flowNode() === undefined) return undefined;
      skipSpaces();
    } else if (line[at] === ":") return undefined; // a one-pair mapping inside a sequence
    if (line[at] === ",") at++;
    else if (line[at] !== close) return undefined;
  }
}
