// VirtualService `headers.request` / `headers.response` (set, add, remove) compiled once into a
// function that edits a web Headers object. Values are made safe here, so nothing per request throws.
import type { HeaderOperations } from "../config/types.ts";

export type HeaderEditor = (h: Headers) => void;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// control characters other than HTAB, and DEL: never legal in a header value (CR/LF would split it)
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Istio routes `host`/`:authority` to an authority rewrite and drops other pseudo-headers. */
function isInternal(name: string): boolean {
  return name.startsWith(":") || name.toLowerCase() === "host";
}

function isAuthority(name: string): boolean {
  const n = name.toLowerCase();
  return n === "host" || n === ":authority";
}

/** Why these operations are unsafe or invalid, or undefined. Use at config validation. */
export function headerOpsError(ops: HeaderOperations | undefined): string | undefined {
  if (!ops) return undefined;
  for (const kind of ["set", "add"] as const) {
    for (const [name, value] of Object.entries(ops[kind] ?? {})) {
      if (!isInternal(name) && !TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)} in ${kind}`;
      UNSAFE.lastIndex = 0;
      if (UNSAFE.test(value)) return `header ${name} in ${kind}: value has CR, LF or another control character`;
    }
  }
  for (const name of ops.remove ?? []) {
    if (!isInternal(name) && !TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)} in remove`;
  }
  return undefined;
}

/**
 * A value web Headers will always accept: control characters (CR/LF above all) stripped, and text
 * beyond Latin-1 sent as its UTF-8 bytes (as Envoy would) instead of making Headers.set throw.
 */
export function safeHeaderValue(value: string): string {
  const v = value.replace(UNSAFE, "");
  if (!/[^\x00-\xff]/.test(v)) return v;
  let out = "";
  for (const b of new TextEncoder().encode(v)) out += String.fromCharCode(b);
  return out;
}

type Pair = readonly [string, string];

function pairs(map: Record<string, string> | undefined): Pair[] {
  // Istio sorts each list by key, so a case-variant duplicate resolves the same way every time
  return Object.keys(map ?? {})
    .sort()
    .filter((k) => !isInternal(k) && TOKEN.test(k))
    .map((k) => [k.toLowerCase(), safeHeaderValue((map as Record<string, string>)[k])] as const);
}

/**
 * Composes the operations of several levels, least specific first (route, then destination), the
 * way Istio builds one Envoy route for a single destination: every level's removes run first, then
 * each level's `set` (overwrite) and `add` (append) in order — so a destination-level `set` wins
 * over a route-level one. (Envoy applies weighted-cluster headers before route headers, so with
 * several destinations Istio's output lets the route win; dietmesh keeps one rule for both.)
 * Returns undefined when there is nothing to do. Headers must be mutable (copy a fetch() response's).
 */
export function compileHeaderOps(...levels: (HeaderOperations | undefined)[]): HeaderEditor | undefined {
  const remove: string[] = [];
  // one ordered list of writes: `set` entries overwrite, `add` entries append
  const writes: { name: string; value: string; append: boolean }[] = [];
  for (const ops of levels) {
    if (!ops) continue;
    for (const name of ops.remove ?? []) if (!isInternal(name) && TOKEN.test(name)) remove.push(name.toLowerCase());
    for (const [name, value] of pairs(ops.set)) writes.push({ name, value, append: false });
    for (const [name, value] of pairs(ops.add)) writes.push({ name, value, append: true });
  }
  if (remove.length === 0 && writes.length === 0) return undefined;
  const n = writes.length;
  return (h) => {
    for (let i = 0; i < remove.length; i++) h.delete(remove[i]);
    for (let i = 0; i < n; i++) {
      const w = writes[i];
      if (w.append) h.append(w.name, w.value);
      else h.set(w.name, w.value);
    }
  };
}

/**
 * The authority a `host` / `:authority` entry asks for (Istio turns it into a host rewrite rather
 * than a header write); `set` wins over `add`.
 */
export function authorityFromHeaderOps(ops: HeaderOperations | undefined): string | undefined {
  let fromAdd: string | undefined;
  let fromSet: string | undefined;
  for (const [k, v] of Object.entries(ops?.add ?? {})) if (isAuthority(k)) fromAdd = v;
  for (const [k, v] of Object.entries(ops?.set ?? {})) if (isAuthority(k)) fromSet = v;
  const a = fromSet ?? fromAdd;
  return a === undefined ? undefined : safeHeaderValue(a);
}
