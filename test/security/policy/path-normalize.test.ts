// normalizePath: what each of Istio's four modes does to a request-target, and what it refuses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isUpperCaseMethod, normalizeFully, normalizePath, type PathNormalization } from "../../../runtime/security/policy/path-normalize.ts";

const MODES: PathNormalization[] = ["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"];

/** raw target → expected path in NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES */
const CASES: [string, string, string, string, string][] = [
  ["/app/../admin", "/app/../admin", "/admin", "/admin", "/admin"],
  ["/public/./data/abc/../xyz", "/public/./data/abc/../xyz", "/public/data/xyz", "/public/data/xyz", "/public/data/xyz"],
  ["/app//", "/app//", "/app//", "/app/", "/app/"],
  ["/app/%2f", "/app/%2f", "/app/%2F", "/app/%2F", "/app/"],
  ["/some%2fdata/%61%62%63", "/some%2fdata/%61%62%63", "/some%2Fdata/abc", "/some%2Fdata/abc", "/some/data/abc"],
  ["/a\\b", "/a\\b", "/a/b", "/a/b", "/a/b"],
  ["/a/%5cb", "/a/%5cb", "/a/%5Cb", "/a/%5Cb", "/a/b"],
  ["/x/%2e%2e/admin", "/x/%2e%2e/admin", "/admin", "/admin", "/admin"],
  ["/x/%2E./admin", "/x/%2E./admin", "/admin", "/admin", "/admin"],
  ["/x/..%2fadmin", "/x/..%2fadmin", "/x/..%2Fadmin", "/x/..%2Fadmin", "/admin"],
  ["/x/..%5cadmin", "/x/..%5cadmin", "/x/..%5Cadmin", "/x/..%5Cadmin", "/admin"],
  ["/x\\..\\admin", "/x\\..\\admin", "/admin", "/admin", "/admin"],
  ["/a//../b", "/a//../b", "/a/b", "/a/b", "/a/b"],
  ["/..", "/..", "/", "/", "/"],
  ["/a/..", "/a/..", "/", "/", "/"],
  ["/a/.", "/a/.", "/a/", "/a/", "/a/"],
  ["/a/%2e/b", "/a/%2e/b", "/a/b", "/a/b", "/a/b"],
  ["/%7e%41%2D%5f%30", "/%7e%41%2D%5f%30", "/~A-_0", "/~A-_0", "/~A-_0"],
  ["/a%3ab", "/a%3ab", "/a%3Ab", "/a%3Ab", "/a%3Ab"],
  // one decoding pass only: a double-encoded dot stays encoded, and a stray "%" cannot combine with
  // decoded characters into a new escape ("%%32%65" must not become "%2e")
  ["/a/%252e%252e/admin", "/a/%252e%252e/admin", "/a/%252e%252e/admin", "/a/%252e%252e/admin", "/a/%252e%252e/admin"],
  ["/a/%%32%65%%32%65/admin", "/a/%%32%65%%32%65/admin", "/a/%252e%252e/admin", "/a/%252e%252e/admin", "/a/%252e%252e/admin"],
  ["/a/%252f", "/a/%252f", "/a/%252f", "/a/%252f", "/a/%252f"],
  ["/é<x>", "/é<x>", "/%C3%A9%3Cx%3E", "/%C3%A9%3Cx%3E", "/%C3%A9%3Cx%3E"],
  ["/Admin", "/Admin", "/Admin", "/Admin", "/Admin"],
  ["/a;b=c/../d", "/a;b=c/../d", "/d", "/d", "/d"],
];

for (const [raw, ...expected] of CASES) {
  test(`${JSON.stringify(raw)} in each mode`, () => {
    const got = MODES.map((m) => {
      const r = normalizePath(raw, m);
      return r.ok ? r.path : `${r.status}`;
    });
    assert.equal(got, expected);
  });
}

test("BASE is the default mode", () => {
  assert.equal(normalizePath("/x/../admin"), normalizePath("/x/../admin", "BASE"));
});

test("the query is kept untouched and out of the path; the fragment is dropped everywhere", () => {
  for (const mode of MODES) {
    const r = normalizePath("/a/./b?next=../../x%2F%00&y=%2e#frag/../z", mode);
    assert.equal(r, { ok: true, path: mode === "NONE" ? "/a/./b" : "/a/b", target: `${mode === "NONE" ? "/a/./b" : "/a/b"}?next=../../x%2F%00&y=%2e` }, mode);
  }
  assert.equal(normalizePath("/admin#/../public"), { ok: true, path: "/admin", target: "/admin" });
  assert.equal(normalizePath("/a#b?c"), { ok: true, path: "/a", target: "/a" });
});

test("%00, NUL, control characters and spaces are a 400 in every mode", () => {
  for (const mode of MODES) {
    for (const raw of ["/a%00b", "/a%00", "/%00/x", "/a\0b", "/a?x=\0", "/a b", "/a\tb", "/a\r\nb", "/a\x7fb"]) {
      const r = normalizePath(raw, mode);
      assert.is(r.ok, false, `${mode} ${JSON.stringify(raw)}`);
      if (!r.ok) assert.is(r.status, 400);
    }
  }
});

test("targets: origin-form, absolute-form reduced to its path, asterisk-form; anything else is a 400", () => {
  assert.equal(normalizePath("http://Example.com:8080/a/../b?q=1"), { ok: true, path: "/b", target: "/b?q=1" });
  assert.equal(normalizePath("https://example.com"), { ok: true, path: "/", target: "/" });
  assert.equal(normalizePath("http://example.com?q"), { ok: true, path: "/", target: "/?q" });
  assert.equal(normalizePath("*"), { ok: true, path: "*", target: "*" });
  assert.is(normalizePath("admin").ok, false);
  assert.is(normalizePath("").ok, false);
  assert.is(normalizePath("../admin").ok, false);
});

test("methods must be upper case (Istio answers 400 otherwise)", () => {
  assert.ok(isUpperCaseMethod("GET"));
  assert.ok(isUpperCaseMethod("M-SEARCH"));
  assert.not.ok(isUpperCaseMethod("delete"));
  assert.not.ok(isUpperCaseMethod("Get"));
  assert.not.ok(isUpperCaseMethod(""));
});

test("the shortcut for plain targets gives what the full normalization gives, in every mode", () => {
  // a seeded walk over targets made of the characters the shortcut takes, plus ones it must not
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const alphabet = "ab/.-_~!$&'()*+,;=:@%2e5C?#\\ é";
  const modes = ["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"] as const;
  for (let n = 0; n < 3000; n++) {
    let target = "/";
    const length = 1 + Math.floor(random() * 12);
    for (let i = 0; i < length; i++) target += alphabet[Math.floor(random() * alphabet.length)];
    for (const mode of modes) assert.equal(normalizePath(target, mode), normalizeFully(target, mode), `${mode} ${JSON.stringify(target)}`);
  }
});

test.run();
