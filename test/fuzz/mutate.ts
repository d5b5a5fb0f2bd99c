// Random mutations of Istio YAML for the config fuzzers: each takes a well-formed file from the
// corpus (the demo's and the tests' YAML) and breaks it the ways people and tools break config —
// a key dropped or written twice, a scalar of the wrong type, numbers out of range, huge strings,
// unknown fields, a document cut short, a kind swapped for another, deep nesting, and alias bombs
// of bounded text size. Deterministic for a seed, so a failure is replayed from the seed printed.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isMap, isScalar, isSeq, parseAllDocuments, visit, type Document, type Node } from "yaml";

/** mulberry32: small, fast, and the same sequence for a seed on every runtime */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];

const root = new URL("../../", import.meta.url).pathname;

/** the corpus: every .yaml file under demo/ and test/ (fuzz regressions excluded), path → text */
export function corpus(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = `${dir}/${name}`;
      if (statSync(path).isDirectory()) {
        if (name !== "node_modules" && name !== "regressions") walk(path);
      } else if (/\.ya?ml$/.test(name)) out.push({ path: path.slice(root.length), text: readFileSync(path, "utf8") });
    }
  };
  walk(`${root}demo`);
  walk(`${root}test`);
  return out;
}

const KINDS = ["Gateway", "VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication", "Sidecar", "Telemetry", "EnvoyFilter", "Service", "Deployment", "", "virtualservice"];
const API_VERSIONS = ["networking.istio.io/v1", "networking.istio.io/v1alpha3", "security.istio.io/v1", "networking.istio.io/v9", "v1", "", "networking.istio.io"];
const ODD_NUMBERS = [-1, 0, 65536, 4294967296, 2 ** 53 + 1, -2147483649, 1.5, 1e308, -0, 101, 1e-9];
const ODD_SCALARS: unknown[] = [null, true, false, "", "0", "-1", "1e309", ".nan", "99999999999999999999", "yes", "NaN", "\u0000", "é", "*", "../../etc", "1h", "-5s", "0.0000001s", "1000000000000000h", "[", "%", "{a: b}"];

function paths(doc: Document): { parent: Node; key: unknown; node: unknown }[] {
  const found: { parent: Node; key: unknown; node: unknown }[] = [];
  visit(doc, {
    Pair(_k, pair, ancestors) {
      const parent = ancestors[ancestors.length - 1] as Node;
      found.push({ parent, key: isScalar(pair.key) ? pair.key.value : pair.key, node: pair.value });
    },
    Seq(_k, seq) {
      seq.items.forEach((item, i) => found.push({ parent: seq, key: i, node: item }));
    },
  });
  return found;
}

function nested(depth: number, open: string, close: string): string {
  return open.repeat(depth) + "x" + close.repeat(depth);
}

/** an alias bomb whose text stays small: `levels` anchors, each a list of `width` aliases of the last */
function aliasBomb(levels: number, width: number): string {
  const lines = ["a0: &a0 [lol]"];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(", ")}]`);
  return lines.join("\n");
}

/** tree mutations: done on the parsed documents, so the result is still YAML of a known shape */
const TREE: Record<string, (doc: Document, rng: Rng) => boolean> = {
  "drop a key"(doc, rng) {
    const pairs = paths(doc).filter((p) => isMap(p.parent));
    if (!pairs.length) return false;
    const p = pick(rng, pairs);
    return (p.parent as unknown as { delete(k: unknown): boolean }).delete(p.key);
  },
  "change a scalar's type"(doc, rng) {
    const leaves = paths(doc).filter((p) => isScalar(p.node));
    if (!leaves.length) return false;
    const leaf = pick(rng, leaves);
    const scalar = leaf.node as { value: unknown };
    const v = scalar.value;
    const choices: unknown[] = [typeof v === "number" ? String(v) : Number.isFinite(Number(v)) ? Number(v) : 42, [v], { value: v }, pick(rng, ODD_SCALARS)];
    const next = pick(rng, choices);
    if (next !== null && typeof next === "object") (leaf.parent as unknown as { set(k: unknown, v: unknown): void }).set(leaf.key, doc.createNode(next));
    else scalar.value = next;
    return true;
  },
  "out-of-range number"(doc, rng) {
    const leaves = paths(doc).filter((p) => isScalar(p.node) && (typeof (p.node as { value: unknown }).value === "number" || /number|port|weight|percent|value|max|min|timeout|attempts/i.test(String(p.key))));
    if (!leaves.length) return false;
    (pick(rng, leaves).node as { value: unknown }).value = pick(rng, ODD_NUMBERS);
    return true;
  },
  "huge string"(doc, rng) {
    const leaves = paths(doc).filter((p) => isScalar(p.node) && typeof (p.node as { value: unknown }).value === "string");
    if (!leaves.length) return false;
    (pick(rng, leaves).node as { value: unknown }).value = pick(rng, ["x", "a.", "*", "é", "/"]).repeat(pick(rng, [1000, 70_000, 1_000_000]));
    return true;
  },
  "unknown field"(doc, rng) {
    const maps = paths(doc).filter((p) => isMap(p.node)).map((p) => p.node as { set(k: unknown, v: unknown): void });
    const target = maps.length && rng() < 0.8 ? pick(rng, maps) : (doc.contents as unknown as { set?(k: unknown, v: unknown): void });
    if (!target?.set) return false;
    target.set(pick(rng, ["unknownField", "corsPolicy", "spec", "__proto__", "constructor", "toString", "metadata", "x-y"]), pick(rng, [1, "v", { a: 1 }, [1], null]));
    return true;
  },
  "swap the kind"(doc, rng) {
    if (!isMap(doc.contents)) return false;
    doc.contents.set(rng() < 0.8 ? "kind" : "apiVersion", rng() < 0.8 ? pick(rng, KINDS) : pick(rng, API_VERSIONS));
    return true;
  },
  "duplicate a list item"(doc, rng) {
    const seqs = paths(doc).filter((p) => isSeq(p.node) && (p.node as { items: unknown[] }).items.length);
    if (!seqs.length) return false;
    const seq = pick(rng, seqs).node as { items: unknown[] };
    seq.items.push(seq.items[Math.floor(rng() * seq.items.length)]);
    return true;
  },
};

/** text mutations: what no tree can hold (duplicate keys, cut documents, raw bombs) */
const TEXT: Record<string, (text: string, rng: Rng) => string> = {
  "duplicate a key"(text, rng) {
    const lines = text.split("\n");
    const keyed = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[A-Za-z][\w-]*:/.test(l));
    if (!keyed.length) return text;
    const [line, i] = pick(rng, keyed);
    lines.splice(i + 1, 0, line);
    return lines.join("\n");
  },
  "truncate"(text, rng) {
    return text.slice(0, Math.floor(rng() * text.length));
  },
  "deep nesting"(text, rng) {
    const [open, close] = pick(rng, [["[", "]"], ["{a: ", "}"], ["- ", ""]]);
    const depth = pick(rng, [100, 1000, 5000]);
    const value = open === "- " ? Array.from({ length: depth }, (_, i) => `${" ".repeat(i * 2)}- `).join("\n") + "x" : nested(depth, open, close);
    return `${text}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: deep }\nspec:\n  hosts:\n${open === "- " ? value.replace(/^/gm, "  ") : `  - ${value}`}\n`;
  },
  "alias bomb"(text, rng) {
    const bomb = aliasBomb(pick(rng, [3, 6, 9]), pick(rng, [5, 9]));
    return `${text}\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: bomb }\nx:\n${bomb.replace(/^/gm, "  ")}\nspec:\n  hosts: *a2\n`;
  },
  "stray bytes"(text, rng) {
    const at = Math.floor(rng() * text.length);
    return text.slice(0, at) + pick(rng, ["\u0000", "\t", "\uFEFF", "\uFFFD", ": :", "- -", "&", "*x", "!!binary", "!!js/function", "%YAML 9\n", "\r", "'", '"']) + text.slice(at);
  },
  "documents shuffled or emptied"(text, rng) {
    const docs = text.split(/^---\s*$/m);
    if (rng() < 0.5) docs.push("", "null", "[]", "42");
    for (let i = docs.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [docs[i], docs[j]] = [docs[j], docs[i]];
    }
    return docs.join("\n---\n");
  },
};

/** one to three mutations of text; ops names them (for the failure message) */
export function mutate(text: string, rng: Rng): { text: string; ops: string[] } {
  const ops: string[] = [];
  let out = text;
  const count = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < count; i++) {
    if (rng() < 0.55) {
      const name = pick(rng, Object.keys(TREE));
      try {
        const docs = parseAllDocuments(out, { logLevel: "error" });
        if (!Array.isArray(docs) || !docs.length || docs.some((d) => d.errors.length)) continue;
        if (!TREE[name](pick(rng, docs), rng)) continue;
        out = docs.map((d) => d.toString({ lineWidth: 0 })).join("---\n");
        ops.push(name);
      } catch {
        // the YAML library itself gave up on this text (too deep for its recursion): skip
      }
    } else {
      const name = pick(rng, Object.keys(TEXT));
      ops.push(name);
      out = TEXT[name](out, rng);
      // what comes after a bomb or deep nesting is only slower to build, not a different test
      if (name === "deep nesting" || name === "alias bomb") break;
    }
  }
  return { text: out, ops };
}

/** the seed: DIETMESH_FUZZ_SEED, else a new one (printed by the caller) */
export function fuzzSeed(env: (name: string) => string | undefined): number {
  const given = env("DIETMESH_FUZZ_SEED");
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/** how long a fuzz test runs: DIETMESH_FUZZ_SECONDS, else `ci` seconds */
export function fuzzSeconds(env: (name: string) => string | undefined, ci: number): number {
  const given = env("DIETMESH_FUZZ_SECONDS");
  return given ? Number(given) : ci;
}
