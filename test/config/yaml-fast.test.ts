// The fast YAML path (yaml-fast.ts through yaml-docs.ts) against the `yaml` package: every YAML
// file in the repository, a bench-shaped manifest and a corpus of tricky scalars and constructs
// must read to identical values (and the same errors) whichever path is taken. The differential
// part runs for every fast parser the runtime has: yaml-plain.ts's reader (Bun and Deno) and the
// native one (Bun.YAML); the scanner's refusals are checked on both runtimes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadYamlPackage, parseYamlDocuments, slowDocuments } from "../../runtime/config/yaml-docs.ts";
import { fastDocuments, scanDocuments, type NativeYaml } from "../../runtime/config/yaml-fast.ts";
import { parsePlainYaml } from "../../runtime/config/yaml-plain.ts";
import { platform } from "../../runtime/platform/index.ts";
import { seededRandom } from "../resilience/seeded-random.ts";

// the slow path compared against: loaded on demand by the loader (config/load.ts), here up front
await loadYamlPackage();

const readers: [string, NativeYaml][] = [["plain reader", parsePlainYaml]];
if (platform.parseYaml) readers.push(["native", platform.parseYaml]);
const root = new URL("../../", import.meta.url).pathname;

/** identical values: same types, same key order, numbers by Object.is (-0, NaN) */
function same(a: unknown, b: unknown, at = "$"): string | undefined {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} (${typeof a}) vs ${String(b)} (${typeof b})`;
  }
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at}: different kinds of object`;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.join("\0") !== kb.join("\0")) return `${at}: keys ${ka} vs ${kb}`;
  for (const k of ka) {
    const d = same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/**
 * text read both ways: when the fast path takes it, the values are the `yaml` package's and that
 * reading had no error; returns whether the fast path took it
 */
function differential(text: string, what: string, native: NativeYaml): boolean {
  const slow = slowDocuments(text);
  const fast = fastDocuments(text, native);
  if (!fast) return false;
  const errors = slow.flatMap((d) => d.errors.map((e) => e.message));
  assert.equal(errors, [], `${what}: the fast path took a text the yaml package refuses`);
  assert.is(fast.length, slow.length, `${what}: document count`);
  fast.forEach((value, i) => {
    const d = same(value, slow[i].value);
    if (d) assert.unreachable(`${what}, document ${i}: ${d}`);
  });
  return true;
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    // bench/results: JSON written by benches, not config, and ever more of it
    if (name === "node_modules" || name === "dist" || name.startsWith(".") || path.endsWith("bench/results")) continue;
    if (statSync(path).isDirectory()) yamlFiles(path, out);
    else if (/\.(ya?ml|json)$/.test(name) && !name.endsWith("lock.json")) out.push(path);
  }
  return out;
}

/** the bench's shape (bench/scale.ts): flow maps inline, a DestinationRule and VirtualService every tenth */
function benchManifest(services: number): string {
  const docs: string[] = [];
  for (let i = 0; i < services; i++) {
    const host = `svc-${i}.default.svc.cluster.local`;
    const endpoints = Array.from({ length: 5 }, (_, e) => `  - { address: 127.0.${i}.${e + 1}, ports: { http: 8080 }, labels: { version: v${(e % 2) + 1} } }`).join("\n");
    docs.push(`apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: svc-${i}, namespace: default }\nspec:\n  hosts: [${host}]\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports: [{ number: 8080, name: http, protocol: HTTP }]\n  endpoints:\n${endpoints}\n`);
    if (i % 10 === 0) {
      docs.push(`apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: svc-${i}, namespace: default }\nspec:\n  hosts: [${host}]\n  http:\n  - match: [{ headers: { x-canary: { exact: "yes" } } }]\n    route: [{ destination: { host: ${host}, subset: v2 } }]\n  - route:\n    - { destination: { host: ${host}, subset: v1 }, weight: 90 }\n    - { destination: { host: ${host}, subset: v2 }, weight: 10 }\n`);
    }
  }
  return docs.join("---\n");
}

const SCALARS = [
  "on", "off", "yes", "no", "y", "n", "Y", "N", "true", "True", "TRUE", "tRue", "false", "FALSE", "null", "Null", "NULL", "nUll", "~",
  "0", "-0", "+0", "00", "007", "08", "0o17", "0O17", "0o8", "0o", "+0o7", "-0o7", "0x1F", "0X1f", "0x", "0xG", "+0x1", "-0x1", "0xFFFFFFFFFFFFFFFFFF", "0b101",
  "1e3", "1E3", "1e+3", "1.5e-3", "1.e1", ".e1", "1e", "e1", "0e0", "1e400", "-1e400", "5e-324", "1.7976931348623157e308", ".5", "-.5", "0.", "1.", "1.0", "-0.0",
  ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".iNf", "inf", ".nan", ".NaN", ".NAN", "nan", "1_000", "1,000", "1:30", "12:30:00", "1.2.3", "10.0.0.1", "10.0.0.0/8", "::1",
  "2001-12-14", "2001-12-14T21:59:43.10-05:00", "12345678901234567890", "9007199254740993", "-9007199254740993", "30s", "1h", "100%", "v1", "a#b", "a # comment", "x-canary",
  "'it''s'", '"\\u00e9\\t"', '"a\\"b"', "'#'", '"yes"', "'0x1F'", "=", "-", "a b", "*.example.com", "\"*.example.com\"", "/api/v1", "^/api/(.*)$",
];

const CONSTRUCTS: Record<string, string> = {
  "duplicate block key": "a: 1\na: 2\n",
  "duplicate nested key": "spec:\n  hosts: [a]\n  hosts: [b]\n",
  "duplicate key in a sequence entry": "- a: 1\n  b: 2\n  a: 3\n",
  "same key in two entries": "- a: 1\n- a: 2\n",
  "same key under two parents": "x:\n  a: 1\ny:\n  a: 2\n",
  "duplicate flow key": "m: { a: 1, a: 2 }\n",
  "duplicate nested flow key": "m: [{ a: 1, b: { c: 1, c: 2 } }]\n",
  "quoted and plain duplicate": "a: 1\n\"a\": 2\n",
  "single-quoted duplicate": "'a': 1\na: 2\n",
  "numeric duplicate": "1: a\n01: b\n",
  "bool duplicate": "true: a\nTrue: b\n",
  "merge key": "base: &b { x: 1 }\nc:\n  <<: *b\n  y: 2\n",
  "quoted merge key": "c:\n  \"<<\": { x: 1 }\n",
  "anchor and alias": "a: &x 1\nb: *x\n",
  "alias bomb": "a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\n",
  "tags": "a: !!int '1'\nb: !!str 1\nc: !custom x\n",
  "binary and set": "a: !!binary aGk=\nb: !!set { a, b }\n",
  "YAML 1.1 directive": "%YAML 1.1\n---\na: yes\n",
  "complex key": "? a\n: 1\n",
  "flow key": "[1, 2]: x\n",
  "empty stream": "",
  "comment only": "# nothing\n",
  "empty documents": "---\n---\na: 1\n",
  "empty document between": "a: 1\n---\n\n---\nb: 2\n",
  "trailing marker": "a: 1\n---\n",
  "comment document": "---\n# only\n---\nb: 1\n",
  "document end marker": "a: 1\n...\n---\nb: 1\n",
  "content on the marker": "--- a\n",
  "comment on the marker": "--- # c\na: 1\n",
  "a list document": "- a\n- b\n",
  "a scalar document": "hello\n",
  "block scalars": "a: |\n  x\n  b: 1\n  b: 1\nb: >-\n  folded\n  text\nc: |+\n  kept\n\nd: 1\n",
  "block scalar in a sequence": "- a: |\n    x: 1\n    x: 1\n  b: 2\n",
  "seq at the key's indent": "k:\n- a: 1\n  b: 2\n- a: 3\nk2: x\n",
  "nested sequences": "- - a\n  - b\n- - c\n",
  "multi-line plain": "a: foo\n  bar\n",
  "multi-line quoted": "a: \"foo\n  bar\"\n",
  "multi-line flow": "a: { b: 1,\n  c: 2 }\n",
  "JSON": "{\n  \"a\": 1,\n  \"b\": [true, null]\n}\n",
  "JSON on one line": "{\"a\": 1, \"b\": [true, null, \"x\"]}\n",
  "one-pair map in a flow sequence": "a: [b: 1]\n",
  "flow single key": "a: { b }\n",
  "empty flow value": "a: { b: }\n",
  "empty collections": "a: {}\nb: []\nc: [{}]\n",
  "trailing comma": "a: [a, b,]\nb: { c: 1, }\n",
  "tab": "a:\t1\n",
  "CRLF": "a: 1\r\nb: 2\r\n",
  "BOM": "\ufeffa: 1\n",
  "proto key": "__proto__: { polluted: true }\n",
  "quoted proto key": "\"__proto__\": 1\n",
  "syntax error": "a: [1, 2\n",
  "bad indentation": "a:\n  b: 1\n c: 2\n",
  "value on a key line with a seq": "a: - b\n",
  "colon in a plain value": "a: b: c\n",
  "comment after a value": "a: 1 # one\nb: 'x' # two\nc: [1] # three\n",
  "hash without space": "a: b#c\n",
  "long keys and labels": "metadata:\n  labels:\n    app.kubernetes.io/name: x\n    sidecar.istio.io/inject: \"false\"\n",
  "key with spaces": "a b: 1\n",
  "mapping items at two columns": "a:\n   b: 1\n  c: 2\n",
  "entry continued at another column": "- a: 1\n   b: 2\n",
  "over-indented key": "a:\n  b: 1\n    c: 2\n",
  "block scalar then a shallower key": "a: |\n  x\n b: 1\n",
  "nested entries": "- - a: 1\n    b: 2\n  - c\n",
  "plain continued with a dash": "a:\n- b\n  - c\n",
  "key after a sequence": "a:\n  - x\n  b: 1\n",
  "long plain key": `${"k".repeat(1100)}: 1\n`,
  "long quoted key": `"${"k".repeat(1100)}": 1\n`,
  "long flow key": `m: { ${"k".repeat(1100)}: 1 }\n`,
  "long value": `a: ${"v".repeat(5000)}\n`,
  "header-ish keys": "headers:\n  \":authority\": x\n  x-b3-sampled: \"1\"\n",
};

for (const [name, native] of readers) {
  test(`${name}: every YAML and JSON file in the repository reads the same both ways (the YAML on the fast path)`, () => {
    const files = yamlFiles(root);
    const yaml = files.filter((f) => !f.endsWith(".json"));
    assert.ok(yaml.length > 50, `found ${yaml.length} YAML files`);
    const slow: string[] = [];
    for (const file of files) if (!differential(readFileSync(file, "utf8"), file.slice(root.length), native) && !file.endsWith(".json")) slow.push(file.slice(root.length));
    // multi-line JSON is refused (flow collections over lines); every YAML file here is plain enough
    assert.ok(slow.length <= yaml.length / 10, `${slow.length} of ${yaml.length} YAML files missed the fast path: ${slow.join(", ")}`);
  });

  test(`${name}: a bench-shaped manifest takes the fast path with the same values`, () => {
    assert.ok(differential(benchManifest(30), "bench manifest", native));
  });

  test(`${name}: tricky scalars read the same in block, sequence and flow positions`, () => {
    let fast = 0, total = 0;
    for (const s of SCALARS) {
      for (const text of [`a: ${s}\n`, `- ${s}\n`, `m: { a: ${s} }\n`, `l: [${s}, x]\n`, `- k: ${s}\n  j: [${s}]\n`]) {
        total++;
        if (differential(text, JSON.stringify(text), native)) fast++;
      }
    }
    assert.ok(fast > total / 2, `only ${fast} of ${total} took the fast path`);
  });

  test(`${name}: constructs the parsers disagree on go to the yaml package; the rest read the same`, () => {
    for (const [what, text] of Object.entries(CONSTRUCTS)) differential(text, what, native);
  });

  if (name === "native") test(`${name}: the raw native parser does disagree where the scan refuses (the refusals are needed)`, () => {
    // if these ever agree the scan may be relaxed; until then each must stay refused
    assert.equal(native("a: 1\na: 2\n"), { a: 2 });
    assert.not.equal(native("c:\n  <<: { x: 1 }\n"), slowDocuments("c:\n  <<: { x: 1 }\n")[0].value);
    assert.not.equal(native("a: -0x1\n"), { a: "-0x1" });
    for (const text of ["a: 1\na: 2\n", "c:\n  <<: { x: 1 }\n", "a: -0x1\n", "a: !!int '1'\n"]) {
      assert.is(fastDocuments(text, native), undefined, text);
    }
  });

  test(`${name}: random block YAML (few keys, so many duplicates) reads the same both ways`, () => {
    const random = seededRandom(11);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    const SAFE_KEYS = ["a", "b", "c", "x-y", "app.io/n", '"a"', "'b'"];
    const RISKY_KEYS = ["1", "01", "true", "<<", "a b", "__proto__", "'a''b'", '"\\x"'];
    const KEYS = Array.from({ length: 100 }, (_, i) => (i < 97 ? SAFE_KEYS[i % SAFE_KEYS.length] : RISKY_KEYS[i % RISKY_KEYS.length]));
    const VALUES = [...SCALARS.slice(0, 60), "x", "y", "v1", "", "", "# c", "[1, a]", "{ a: 1, b: 2 }", "{ a: 1, a: 2 }", "[{ b: 1 }, { b: 2 }]", "'q: x'", '"d # e"', "&x 1", "*x", "!!str 1", "|", ">-"];
    const block = (indent: number, depth: number): string[] => {
      const pad = " ".repeat(indent);
      const lines: string[] = [];
      const n = 1 + Math.floor(random() * 3);
      for (let i = 0; i < n; i++) {
        const key = pick(KEYS);
        const r = random();
        if (depth < 3 && r < 0.25) lines.push(`${pad}${key}:`, ...block(indent + 1 + Math.floor(random() * 3), depth + 1));
        else if (depth < 3 && r < 0.4) {
          const seqPad = random() < 0.5 ? pad : pad + "  ";
          for (let k = 0; k < 2; k++) {
            const inner = block(seqPad.length + 2, depth + 1);
            lines.push(`${pad}${key}:`.slice(0, k ? 0 : undefined) || "", `${seqPad}- ${inner[0].trimStart()}`, ...inner.slice(1));
          }
        } else {
          const v = pick(VALUES);
          lines.push(`${pad}${key}: ${v}`.trimEnd());
          if (v === "|" || v === ">-") lines.push(`${pad}  ${pick(KEYS)}: text`, `${pad}  ${pick(KEYS)}: text`);
        }
        if (random() < 0.1) lines.push(random() < 0.5 ? "" : `${pad}# comment`);
      }
      return lines.filter((l, i) => l !== "" || i > 0);
    };
    let fast = 0;
    const runs = 3000;
    for (let i = 0; i < runs; i++) {
      const docs = Array.from({ length: 1 + Math.floor(random() * 2) }, () => block(0, 0).join("\n"));
      const text = docs.join(random() < 0.5 ? "\n---\n" : "\n---\n\n") + "\n";
      if (differential(text, JSON.stringify(text), native)) fast++;
    }
    assert.ok(fast > runs / 10, `only ${fast} of ${runs} took the fast path`);
  });

  test(`${name}: parseYamlDocuments on the fast path: lines of fields from the yaml package on demand`, () => {
    const text = "a: 1\n---\nkind: X\nspec:\n  hosts: [a]\n  port: 9\n";
    const docs = parseYamlDocuments(text, native);
    assert.equal(docs.map((d) => d.value), [{ a: 1 }, { kind: "X", spec: { hosts: ["a"], port: 9 } }]);
    assert.is(docs[1].lineOf(["spec", "port"]), 6);
    assert.is(docs[1].lineOf(["spec", "hosts", 0]), 5);
    assert.is(docs[0].lineOf(["a"]), 1);
  });
}

test("the plain reader alone (no scan first) returns only what the yaml package returns, and throws otherwise", () => {
  // a second line of defence: whatever the scan lets through, the reader checks on its own
  let taken = 0, total = 0;
  const texts = [...Object.values(CONSTRUCTS), ...SCALARS.flatMap((s) => [`a: ${s}\n`, `- ${s}\n`, `m: { a: ${s} }\n`, `l: [${s}, x]\n`, `${s}\n`, `${s}: 1\n`])];
  for (const text of texts) {
    if (text.includes("---")) continue;
    const slow = slowDocuments(text);
    let value: unknown;
    try {
      value = parsePlainYaml(text);
    } catch {
      continue;
    }
    total++;
    assert.is(slow.length <= 1, true, text);
    assert.equal(slow.flatMap((d) => d.errors.map((e) => e.message)), [], `the reader took ${JSON.stringify(text)}, which the yaml package refuses`);
    const d = same(value, slow[0]?.value ?? null);
    if (d) assert.unreachable(`${JSON.stringify(text)}: ${d}`);
    taken++;
  }
  assert.ok(taken > texts.length / 3, `the reader took only ${taken} of ${texts.length}`);
  for (const text of ["a: 1\na: 2\n", "c:\n  <<: { x: 1 }\n", "a: &x 1\n", "a: !!str 1\n", "a: |\n  x\n", "a: 'x\n  y'\n", "a:\n  b: 1\n c: 2\n", "__proto__: 1\n", "m: { a: 1, a: 2 }\n"]) {
    assert.throws(() => parsePlainYaml(text), undefined, text);
  }
});

test("duplicate keys are errors with their line on every runtime", () => {
  const docs = parseYamlDocuments("kind: X\nspec:\n  a: 1\n  b: [1]\n  a: 2\n");
  assert.is(docs.length, 1);
  assert.is(docs[0].value, undefined);
  assert.match(docs[0].errors[0].message, /unique/);
  assert.is(docs[0].errors[0].line, 5);
});

test("the scan refuses what it cannot vouch for, on every runtime", () => {
  const refused = ["duplicate block key", "duplicate flow key", "duplicate nested flow key", "quoted and plain duplicate", "single-quoted duplicate", "numeric duplicate",
    "bool duplicate", "merge key", "quoted merge key", "anchor and alias", "tags", "YAML 1.1 directive", "complex key", "document end marker", "content on the marker",
    "multi-line plain", "multi-line quoted", "multi-line flow", "tab", "CRLF", "BOM", "long plain key", "long quoted key", "proto key", "quoted proto key", "duplicate key in a sequence entry", "duplicate nested key"];
  for (const name of refused) assert.is(scanDocuments(CONSTRUCTS[name]), undefined, name);
  const taken = ["same key in two entries", "same key under two parents", "block scalars", "block scalar in a sequence", "seq at the key's indent", "empty documents", "comment only"];
  for (const name of taken) assert.ok(scanDocuments(CONSTRUCTS[name]), name);
  // the yaml package's document count: an empty first part is no document, every marker starts one
  const count = (t: string) => scanDocuments(t)!.length;
  assert.equal([count(""), count("# c\n"), count("a: 1\n---\n"), count("---\n---\na: 1\n"), count("---\n# only\n---\nb: 1\n")], [0, 0, 2, 2, 2]);
  assert.equal([0, 0, 2, 2, 2], ["", "# c\n", "a: 1\n---\n", "---\n---\na: 1\n", "---\n# only\n---\nb: 1\n"].map((t) => slowDocuments(t).length));
});

test("flow collections nested past the scan's depth go to the yaml package, which reports the stack limit as an error", () => {
  // found by the reload fuzzer: a recursive scan of 20,000 nested "[" overflowed the stack and the exception escaped the reload
  const nested = (n: number) => `kind: X\nspec:\n  a: ${"[".repeat(n)}${"]".repeat(n)}\n`;
  assert.ok(scanDocuments(nested(64)), "64 levels: scanned");
  assert.is(scanDocuments(nested(65)), undefined, "65 levels: refused");
  const deep = parseYamlDocuments(nested(20_000));
  assert.is(deep[0].value, undefined);
  assert.match(deep[0].errors[0].message, /stack/i);
});

test.run();
