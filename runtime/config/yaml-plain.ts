// A small YAML reader for the plain subset that yaml-fast.ts's scan proves (block mappings and
// sequences, one-line flow collections, one-line quoted and plain scalars, comments), giving the
// values the `yaml` package gives (YAML 1.2 core schema, toJS). It is the fast path's parser where
// the runtime has none of its own (Deno): the `yaml` package builds a CST and Document nodes for
// every line, ~5 s for the scale bench's 7.4 MB, where this reads plain data straight off the lines.
//
// Anything outside the subset throws (block scalars, anchors, tags, multi-line scalars, odd
// indentation, duplicate or non-string keys), and fastDocuments then hands the whole text to the
// `yaml` package, which gives the value or the error with its line. It must never return a value
// the `yaml` package would not; test/config/yaml-fast.test.ts compares the two on every runtime.

class Unsupported extends Error {}
const no = (why: string): never => {
  throw new Unsupported(why);
};

const SPACE = 32, HASH = 35, COLON = 58, DASH = 45;
/** , [ ] { } */
const isFlowEnd = (c: number) => c === 44 || c === 91 || c === 93 || c === 123 || c === 125;
/** characters that open a node this reader does not take: anchors, aliases, tags, complex keys, directives, reserved, block scalars */
const REFUSED_START = new Set(["&", "*", "!", "?", "%", "@", "`", "|", ">"]);

// the core schema's implicit types, in the `yaml` package's order (its schema/core)
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** a plain scalar's value under the core schema */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // most plain scalars are names: only text starting like a number, null or bool needs the tests
  const maybeTyped = s.length === 0 || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 126 || c === 110 || c === 78 || c === 116 || c === 84 || c === 102 || c === 70;
  if (!maybeTyped) return s;
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return c === 116 || c === 84;
  if (INT_OCT.test(s)) return parseInt(s.slice(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? -Infinity : Infinity;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

const ESCAPES: Record<string, string> = {
  "0": "\0", a: "\x07", b: "\b", e: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v",
  N: "\u0085", _: "\u00a0", L: "\u2028", P: "\u2029", " ": " ", '"': '"', "/": "/", "\\": "\\",
};

// the reader's state: the document's content lines (blank and comment lines dropped), the line
// being read, and the column where its unread part starts
let lines: string[] = [];
let li = 0;
let lc = 0;
/** the end of the current scalar read by quoted()/flow readers */
let end = 0;

/** one document's text (from yaml-fast.ts's split) → its value; throws when outside the subset */
export function parsePlainYaml(text: string): unknown {
  if (text.charCodeAt(0) === 0xfeff) no("byte-order mark");
  lines = [];
  let pos = 0;
  while (pos <= text.length) {
    let eol = text.indexOf("\n", pos);
    if (eol < 0) eol = text.length;
    let i = pos;
    while (text.charCodeAt(i) === SPACE) i++;
    if (i < eol && text.charCodeAt(i) !== HASH) {
      const line = text.slice(pos, eol);
      if (line.includes("\t") || line.includes("\r")) no("tab or CR");
      lines.push(line);
    }
    pos = eol + 1;
  }
  if (!lines.length) return null;
  li = 0;
  lc = indentOf(lines[0]);
  if (lc !== 0 && lines.some((l) => indentOf(l) < lc)) no("indentation");
  try {
    const value = block(-1);
    if (li < lines.length) no("content after the document's node");
    return value;
  } finally {
    lines = [];
  }
}

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === SPACE) i++;
  return i;
}

/** moves to the next content line, its unread part starting at its indentation */
function nextLine() {
  li++;
  if (li < lines.length) lc = indentOf(lines[li]);
}

const isDashEntry = (line: string, col: number) => line.charCodeAt(col) === DASH && (col + 1 === line.length || line.charCodeAt(col + 1) === SPACE);

/** the node at the cursor, whose column must be more than parent's */
function block(parent: number): unknown {
  const line = lines[li];
  if (lc <= parent) no("indentation");
  if (isDashEntry(line, lc)) return sequence(lc);
  if (keyEnd(line, lc) >= 0) return mapping(lc);
  const v = inline(line, lc);
  nextLine();
  return v;
}

/** a block sequence whose dashes stand at col */
function sequence(col: number): unknown[] {
  const out: unknown[] = [];
  while (li < lines.length && lc === col && isDashEntry(lines[li], col)) {
    const line = lines[li];
    let c = col + 1;
    while (line.charCodeAt(c) === SPACE) c++;
    if (c >= line.length || line.charCodeAt(c) === HASH) {
      // the entry's node starts on the next line (deeper), or it is empty
      nextLine();
      out.push(li < lines.length && lc > col ? block(col) : null);
    } else {
      lc = c;
      out.push(block(col));
    }
  }
  if (li < lines.length && lc > col) no("indentation");
  return out;
}

/** a block mapping whose keys stand at col */
function mapping(col: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (li < lines.length && lc === col) {
    const line = lines[li];
    const colon = keyEnd(line, col);
    if (colon < 0) no("not a key");
    const key = keyText(line, col, colon);
    if (Object.hasOwn(out, key)) no("duplicate key");
    let c = colon + 1;
    while (line.charCodeAt(c) === SPACE) c++;
    let value: unknown;
    if (c >= line.length || line.charCodeAt(c) === HASH) {
      nextLine();
      if (li >= lines.length) value = null;
      else if (lc > col) value = block(col);
      else if (lc === col && isDashEntry(lines[li], col)) value = sequence(col); // a sequence may sit at its key's column
      else value = null;
    } else {
      value = inline(line, c);
      nextLine();
    }
    out[key] = value;
  }
  if (li < lines.length && lc > col) no("indentation");
  return out;
}

/** the index of the `:` that ends a key starting at col, or -1 when the line holds no key there */
function keyEnd(line: string, col: number): number {
  const c = line[col];
  if (c === '"' || c === "'") {
    quoted(line, col);
    let i = end;
    while (line.charCodeAt(i) === SPACE) i++;
    if (line.charCodeAt(i) !== COLON) return -1;
    return i + 1 === line.length || line.charCodeAt(i + 1) === SPACE ? i : no("quoted key without a space");
  }
  if (c === "{" || c === "[") return -1; // a flow collection as a node (a flow key is refused later)
  for (let i = col; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === COLON && (i + 1 === line.length || line.charCodeAt(i + 1) === SPACE)) return i;
    if (ch === HASH && line.charCodeAt(i - 1) === SPACE) return -1;
  }
  return -1;
}

/** a key's text: a plain scalar that resolves to a string, or a quoted scalar */
function keyText(line: string, col: number, colon: number): string {
  if (colon - col > 1000) no("long key"); // YAML caps implicit keys at 1024 characters
  const c = line[col];
  const key = c === '"' || c === "'" ? quoted(line, col) : plainKey(line.slice(col, colon).trimEnd());
  if (key === "__proto__" || key === "<<") no("key with a meaning beyond its text");
  return key;
}

function plainKey(text: string): string {
  if (!text || REFUSED_START.has(text[0]) || text[0] === "-" || text[0] === ":" || isFlowEnd(text.charCodeAt(0))) no("plain key");
  if (typeof resolvePlain(text) !== "string") no("non-string key");
  return text;
}

/** a node written on one line from col to its end (a comment may follow) */
function inline(line: string, col: number): unknown {
  const c = line[col];
  let value: unknown;
  if (c === "{" || c === "[") {
    end = col;
    value = flowCollection(line);
  } else if (c === '"' || c === "'") {
    value = quoted(line, col);
  } else {
    if (REFUSED_START.has(c) || isFlowEnd(line.charCodeAt(col)) || isDashEntry(line, col) || (c === ":" && (col + 1 === line.length || line.charCodeAt(col + 1) === SPACE))) no("node start");
    const hash = line.indexOf(" #", col);
    const text = (hash < 0 ? line.slice(col) : line.slice(col, hash)).trimEnd();
    if (text.includes(": ") || text.endsWith(":")) no("a mapping where a scalar stands");
    return resolvePlain(text);
  }
  let i = end;
  while (line.charCodeAt(i) === SPACE) i++;
  if (i < line.length && !(line.charCodeAt(i) === HASH && i > end)) no("text after a node");
  return value;
}

/** the quoted scalar at from, closed on this line: its value; end is set past it */
function quoted(line: string, from: number): string {
  const q = line[from];
  let out = "";
  let run = from + 1;
  for (let i = from + 1; i < line.length; i++) {
    const ch = line[i];
    if (q === '"' && ch === "\\") {
      out += line.slice(run, i);
      const next = line[i + 1];
      const simple = ESCAPES[next];
      if (simple !== undefined) {
        out += simple;
        i++;
      } else if (next === "x" || next === "u" || next === "U") {
        const n = next === "x" ? 2 : next === "u" ? 4 : 8;
        const hex = line.slice(i + 2, i + 2 + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) no("bad escape");
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) no("bad escape");
        out += String.fromCodePoint(code);
        i += 1 + n;
      } else no("bad escape");
      run = i + 1;
    } else if (ch === q) {
      if (q === "'" && line[i + 1] === "'") {
        out += line.slice(run, i + 1);
        i++;
        run = i + 1;
        continue;
      }
      end = i + 1;
      return out + line.slice(run, i);
    }
  }
  return no("quoted scalar over lines");
}

function skipSpaces(line: string) {
  while (line.charCodeAt(end) === SPACE) end++;
}

/** the flow collection at end (on this line): its value; end is set past it */
function flowCollection(line: string): unknown {
  const isMap = line[end] === "{";
  const close = isMap ? "}" : "]";
  end++;
  const map: Record<string, unknown> | undefined = isMap ? {} : undefined;
  const seq: unknown[] | undefined = isMap ? undefined : [];
  for (;;) {
    skipSpaces(line);
    if (line[end] === close) {
      end++;
      return map ?? seq;
    }
    const startsQuoted = line[end] === '"' || line[end] === "'";
    const node = flowNode(line);
    skipSpaces(line);
    if (map) {
      if (line[end] !== ":") no("flow entry without a value");
      let key: string;
      if (startsQuoted) key = node as string;
      else if (typeof node === "string" && node) key = node;
      else no("non-string flow key");
      if (key!.length > 1000 || key! === "__proto__" || key! === "<<" || Object.hasOwn(map, key!)) no("flow key");
      end++;
      map[key!] = flowNode(line);
      skipSpaces(line);
    } else {
      if (line[end] === ":") no("a one-pair mapping in a flow sequence");
      seq!.push(node);
    }
    if (line[end] === ",") end++;
    else if (line[end] !== close) no("flow collection");
  }
}

/** one node inside a flow collection, at end */
function flowNode(line: string): unknown {
  skipSpaces(line);
  const c = line[end];
  if (c === "{" || c === "[") return flowCollection(line);
  if (c === '"' || c === "'") return quoted(line, end);
  if (c === undefined || c === "#" || c === ":" || c === "-" && (line.charCodeAt(end + 1) === SPACE || isFlowEnd(line.charCodeAt(end + 1))) || REFUSED_START.has(c) || isFlowEnd(line.charCodeAt(end))) no("flow node");
  const start = end;
  let i = end;
  while (i < line.length) {
    const ch = line.charCodeAt(i);
    if (isFlowEnd(ch)) break;
    if (ch === COLON) {
      const next = line.charCodeAt(i + 1);
      if (i + 1 === line.length || next === SPACE || isFlowEnd(next)) break;
    }
    if (ch === HASH && line.charCodeAt(i - 1) === SPACE) no("comment inside a flow collection");
    i++;
  }
  end = i;
  return resolvePlain(line.slice(start, i).trimEnd());
}

