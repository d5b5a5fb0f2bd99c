// VirtualService `headers.request` / `headers.response` (set, add, remove) compiled once into a
// function that edits a web Headers object. The loader refuses what cannot be honoured
// (headerOpsProblems); values are still made safe here, so nothing per request throws.
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

export interface HeaderOpsProblem {
  /** under the operations object: ["set", name], ["add", name] or ["remove", index] */
  path: (string | number)[];
  message: string;
}

/**
 * Why each operation cannot be honoured, for the loader to refuse (istiod's rules, plus values no
 * header may carry): a name that is not an HTTP token; a pseudo-header or `host`, except that a
 * request's `set`/`add` of `host` / `:authority` rewrites the authority; a value with CR, LF or
 * another control character. Empty when every operation can be honoured.
 */
export function headerOpsProblems(ops: HeaderOperations, side: "request" | "response"): HeaderOpsProblem[] {
  const out: HeaderOpsProblem[] = [];
  const nameProblem = (name: string, writes: boolean) => {
    if (writes && side === "request" && isAuthority(name)) return undefined;
    if (isInternal(name)) {
      return writes && side === "request"
        ? `header ${JSON.stringify(name)} cannot be written: of the pseudo-headers and host only :authority (or host) can, which rewrites the authority`
        : `header ${JSON.stringify(name)} cannot be ${writes ? "written on a response" : "removed"}: it is a pseudo-header or host`;
    }
    return TOKEN.test(name) ? undefined : `invalid header name ${JSON.stringify(name)}: expected an HTTP token (letters, digits and !#$%&'*+-.^_\`|~, no spaces)`;
  };
  for (const kind of ["set", "add"] as const) {
    for (const [name, value] of Object.entries(ops[kind] ?? {})) {
      UNSAFE.lastIndex = 0;
      const problem = nameProblem(name, true) ?? (UNSAFE.test(value) ? `header ${JSON.stringify(name)}: value has CR, LF or another control character` : undefined);
      if (problem) out.push({ path: [kind, name], message: problem });
    }
  }
  (ops.remove ?? []).forEach((name, i) => {
    const problem = nameProblem(name, false);
    if (problem) out.push({ path: ["remove", i], message: problem });
  });
  return out;
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
