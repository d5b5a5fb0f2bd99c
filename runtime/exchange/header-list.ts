// The header fields of a request or response on dietmesh's own data path: two arrays (lowercase
// names, values) in arrival order, with the Web Headers API on top so every filter, matcher and
// policy reads it as it reads a Headers. Why not Headers itself: on Bun each Headers call crosses
// into native code and re-validates its arguments, and a proxied request makes about sixty of them
// (building the request from the parsed head, hop-by-hop stripping, forwarding headers, trace
// context, the response's fields, the writers' forEach); a CPU profile put them at about a fifth of
// the sidecar's JavaScript time (docs/performance.md, "Own header list").
//
// Semantics are the Fetch standard's: names are case-insensitive (kept lowercase), values are
// trimmed of leading and trailing whitespace and may not hold NUL, CR or LF (a TypeError, as
// Headers throws: a header we forward must never split into two), get() joins repeated fields with
// ", ", iteration and forEach sort by name and combine, set-cookie apart (getSetCookie). Only the
// HTTP/1.1 writers read the arrays directly, to send fields in the order they came.

const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 2; // upper case: a token character that must be lowered
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/**
 * Names already checked, each to its lowercase form. The data path asks for the same few dozen
 * names (x-request-id, host, traceparent, …) on every request, and upstreams send theirs
 * capitalised (Content-Type, Date: the runtimes' own servers, nginx, most frameworks), which were
 * lowered and checked again for every response: a lookup is half the cost of the check (20
 * against 28-40 ns on Bun and Deno) and spares toLowerCase's new string. Bounded, so names from
 * requests cannot grow it.
 */
const CHECKED = new Map<string, string>();

/** the name lowercased; a TypeError when it is not an HTTP token */
function fieldName(name: string): string {
  const known = CHECKED.get(name);
  if (known !== undefined) return known;
  const n = String(name);
  let upper = false;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    const kind = c < 128 ? TOKEN[c] : 0;
    if (kind === 0) throw new TypeError(`invalid header name ${JSON.stringify(n)}`);
    if (kind === 2) upper = true;
  }
  if (n.length === 0) throw new TypeError("empty header name");
  const lower = upper ? n.toLowerCase() : n;
  if (CHECKED.size < 512) CHECKED.set(n, lower);
  return lower;
}

/** a value that needs trimming or refusing: whitespace at either end, NUL, CR, LF, or beyond latin1 */
const NOT_PLAIN = /^[\t\n\r ]|[\t\n\r ]$|[\0\n\r\u0100-\uffff]/;
const OUTER_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN = /[\0\n\r\u0100-\uffff]/;

/** the value trimmed of HTTP whitespace; a TypeError when it holds NUL, CR or LF or a non-latin1 character */
function fieldValue(value: string): string {
  // one regular expression for the usual value (compiled by the engine; a per-character loop in
  // JavaScript was 3 % of a sidecar's time)
  const v = String(value);
  if (!NOT_PLAIN.test(v)) return v;
  const trimmed = v.replace(OUTER_WHITESPACE, "");
  if (FORBIDDEN.test(trimmed)) throw new TypeError(`invalid value for a header: ${JSON.stringify(trimmed)}`);
  return trimmed;
}

/**
 * headers.set(name, value) for a name and value the caller vouches for: a lowercase token literal,
 * and a value checked once before (a peer's XFCC made per connection) or built from checked parts
 * (fields of a parsed request, a socket's address, this proxy's own constants). On dietmesh's own
 * header list the checks are not made again per request; any other Headers checks as it does.
 */
export function setChecked(headers: Headers, name: string, value: string): void {
  if (headers instanceof HeaderList) headers.setValid(name, value);
  else headers.set(name, value);
}

/**
 * headers.get(name), headers.has(name), headers.delete(name) for a lowercase token literal: on
 * dietmesh's own list the name is not looked up in the checked-names table again (a map lookup per
 * call, ~18 calls per proxied request: ~5 % of the gateway's JavaScript in a CPU profile).
 */
export function getChecked(headers: Headers, name: string): string | null {
  return headers instanceof HeaderList ? headers.getValid(name) : headers.get(name);
}

export function hasChecked(headers: Headers, name: string): boolean {
  return headers instanceof HeaderList ? headers.fieldNames.indexOf(name) >= 0 : headers.has(name);
}

export function deleteChecked(headers: Headers, name: string): void {
  if (headers instanceof HeaderList) headers.deleteValid(name);
  else headers.delete(name);
}

export class HeaderList implements Headers {
  // declared and set in the constructor, not initialised where declared: on JSC field initialisers
  // are a function of their own, called for every list made (~2 % of a mesh pair's profile)
  /** lowercase names, in the order the fields came or were added */
  declare readonly fieldNames: string[];
  /** their values, at the same index */
  declare readonly fieldValues: string[];

  constructor(init?: HeadersInit | null) {
    (this as { fieldNames: string[] }).fieldNames = [];
    (this as { fieldValues: string[] }).fieldValues = [];
    if (init == null) return;
    if (init instanceof HeaderList) {
      for (let i = 0; i < init.fieldNames.length; i++) this.add(init.fieldNames[i], init.fieldValues[i]);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === "function") {
      for (const pair of init as Iterable<readonly string[]>) {
        if (pair.length !== 2) throw new TypeError("a header init pair must have two items");
        this.append(pair[0], pair[1]);
      }
    } else for (const name of Object.keys(init)) this.append(name, (init as Record<string, string>)[name]);
  }

  /** adds a field already known to be valid (a lowercase token name, a trimmed value): the parsers' path */
  add(name: string, value: string): void {
    this.fieldNames.push(name);
    this.fieldValues.push(value);
  }

  /**
   * A field from dietmesh's response head parser, which has refused every control character and
   * bare CR or LF in the head and trimmed each value: only the name is still checked (and lowered).
   */
  appendParsed(name: string, value: string): void {
    this.fieldNames.push(fieldName(name));
    this.fieldValues.push(value);
  }

  append(name: string, value: string): void {
    const n = fieldName(name);
    const v = fieldValue(value);
    this.fieldNames.push(n);
    this.fieldValues.push(v);
  }

  get(name: string): string | null {
    return this.getValid(fieldName(name));
  }

  /** get() for a lowercase token (getChecked) */
  getValid(n: string): string | null {
    const names = this.fieldNames;
    let found: string | null = null;
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== n) continue;
      found = found === null ? this.fieldValues[i] : found + ", " + this.fieldValues[i];
    }
    return found;
  }

  has(name: string): boolean {
    return this.fieldNames.indexOf(fieldName(name)) >= 0;
  }

  set(name: string, value: string): void {
    this.setValid(fieldName(name), fieldValue(value));
  }

  /** set() for a name and value already known valid: a lowercase token, a value checked before (setChecked) */
  setValid(n: string, v: string): void {
    const names = this.fieldNames;
    const at = names.indexOf(n);
    if (at < 0) {
      names.push(n);
      this.fieldValues.push(v);
      return;
    }
    this.fieldValues[at] = v;
    this.remove(n, at + 1);
  }

  delete(name: string): void {
    this.deleteValid(fieldName(name));
  }

  /** delete() for a lowercase token (deleteChecked) */
  deleteValid(n: string): void {
    const at = this.fieldNames.indexOf(n);
    if (at >= 0) this.remove(n, at);
  }

  /** removes every field whose (lowercase) name the test picks */
  removeWhere(test: (name: string) => boolean): void {
    const fieldNames = this.fieldNames;
    for (let i = 0; i < fieldNames.length; i++) {
      if (test(fieldNames[i])) return this.remove(fieldNames[i], i, test);
    }
  }

  /** removes every field named n (or picked by test) at or after index from (n already lowercase) */
  private remove(n: string, from: number, test?: (name: string) => boolean): void {
    const names = this.fieldNames;
    const values = this.fieldValues;
    let out = from;
    for (let i = from; i < names.length; i++) {
      if (names[i] === n || (test !== undefined && test(names[i]))) continue;
      names[out] = names[i];
      values[out] = values[i];
      out++;
    }
    names.length = out;
    values.length = out;
  }

  getSetCookie(): string[] {
    return this.getAll("set-cookie");
  }

  /** Bun's extension (set-cookie only there): every value of the name, uncombined */
  getAll(name: string): string[] {
    const n = fieldName(name);
    const out: string[] = [];
    for (let i = 0; i < this.fieldNames.length; i++) if (this.fieldNames[i] === n) out.push(this.fieldValues[i]);
    return out;
  }

  /** the Fetch standard's view: sorted by name, repeated fields combined, each set-cookie apart */
  private sorted(): [string, string][] {
    const unique = [...new Set(this.fieldNames)].sort();
    const out: [string, string][] = [];
    for (const name of unique) {
      if (name === "set-cookie") for (const cookie of this.getSetCookie()) out.push([name, cookie]);
      else out.push([name, this.get(name)!]);
    }
    return out;
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of this.sorted()) callback.call(thisArg, value, name, this);
  }

  entries(): HeadersIterator<[string, string]> {
    return this.sorted()[Symbol.iterator]() as HeadersIterator<[string, string]>;
  }

  keys(): HeadersIterator<string> {
    return this.sorted().map(([name]) => name)[Symbol.iterator]() as HeadersIterator<string>;
  }

  values(): HeadersIterator<string> {
    return this.sorted().map(([, value]) => value)[Symbol.iterator]() as HeadersIterator<string>;
  }

  [Symbol.iterator](): HeadersIterator<[string, string]> {
    return this.entries();
  }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this.sorted()) out[name] = name in out ? out[name] + ", " + value : value;
    return out;
  }

  get count(): number {
    return new Set(this.fieldNames).size;
  }
}
