import { test } from "uvu";
import * as assert from "uvu/assert";
import { RE2JS } from "re2js";
import { compileRegex, loadRegexEngine, MAX_REGEX_LENGTH, regexError } from "../../runtime/routing/regex.ts";
import { re2Problem } from "../../runtime/config/schema-common.ts";

// the RE2 engine loads with a config that has a regex (config/load-engines.ts); here, once for all
await loadRegexEngine();

test("seed user-agent regex .*Chrome.* is a whole-value match", () => {
  const m = compileRegex(".*Chrome.*");
  assert.ok(m("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"));
  assert.ok(m("Chrome"));
  assert.not.ok(m("Mozilla/5.0 Firefox/121.0"));
  assert.not.ok(m("chrome")); // case-sensitive
});

test("seed cookie regex ^(.*?;)?(user=leander)(;.*)?$", () => {
  const m = compileRegex("^(.*?;)?(user=leander)(;.*)?$");
  assert.ok(m("user=leander"));
  assert.ok(m("a=b;user=leander"));
  assert.ok(m("a=b;user=leander;c=d"));
  assert.not.ok(m("user=leanderx"));
  assert.not.ok(m("xuser=leander"));
  assert.not.ok(m("a=b; user=leander")); // the space after ";" is not allowed by the pattern
});

test("regex must match the whole value, not a substring", () => {
  assert.not.ok(compileRegex("Chrome")("xChromex"));
  assert.ok(compileRegex("Chrome")("Chrome"));
  assert.not.ok(compileRegex("[a-c]+")("abcd"));
  assert.ok(compileRegex("[a-c]+")("abcabc"));
  assert.not.ok(compileRegex("/api/v[0-9]")("/api/v1/users"));
});

test("fast paths agree with RE2 on every input (differential)", () => {
  const patterns = [
    ".*Chrome.*", "Chrome.*", ".*Chrome", "Chrome", "^Chrome$", "^.*Chrome.*$", ".*", "^.*$", "", "^$",
    ".*\\.example\\.com", "/api/.*", "a\\$", "a\\\\$", "\\*x.*", ".*a.*b", "a.*b", "ab*", ".*.*", "a.", "x+", "é.*",
  ];
  const inputs = [
    "", "Chrome", "xChrome", "Chromex", "xChromex", "a\nChrome", "Chrome\n", "Chrome\nx", "\n", "foo.example.com",
    "fooXexampleXcom", "/api/x", "/api", "/api/\n", "a$", "a", "a\\", "*x", "*xyz", "ab", "abb", "axb", "a\nb", "éa", "e",
  ];
  for (const p of patterns) {
    const fast = compileRegex(p);
    const re = RE2JS.compile(p);
    for (const s of inputs) assert.is(fast(s), re.matches(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`);
  }
});

test("RE2 '.' does not match a newline, so .*X.* rejects multi-line values", () => {
  assert.not.ok(compileRegex(".*Chrome.*")("a\nChrome"));
  assert.not.ok(compileRegex("Chrome.*")("Chrome\nx"));
  assert.not.ok(compileRegex(".*Chrome")("x\nChrome"));
  assert.not.ok(compileRegex(".*")("\n"));
});

test("ReDoS pattern (a+)+$ on 30k chars returns (linear time engine)", () => {
  const m = compileRegex("(a+)+$");
  assert.is(m("a".repeat(30_000) + "b"), false);
  assert.is(m("a".repeat(30_000)), true);
});

test("look-arounds and back-references are config errors", () => {
  for (const p of ["(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", "(a)\\1"]) {
    assert.type(regexError(p), "string", p);
    assert.throws(() => compileRegex(p), undefined, p);
  }
  assert.type(regexError("["), "string");
  assert.type(regexError("*"), "string");
  assert.is(regexError("^(.*?;)?(user=leander)(;.*)?$"), undefined);
  assert.is(regexError(".*Chrome.*"), undefined);
});

test("escaped punctuation counts as a literal; escapes like \\d go to the engine", () => {
  assert.ok(compileRegex(".*\\.example\\.com")("api.example.com"));
  assert.not.ok(compileRegex(".*\\.example\\.com")("apiXexampleXcom"));
  assert.ok(compileRegex("v\\d")("v1"));
  assert.not.ok(compileRegex("v\\d")("vx"));
});

test("a pattern longer than the limit is refused by its length, with a short excerpt; one at the limit goes to the engine", () => {
  const long = "a.".repeat(MAX_REGEX_LENGTH / 2) + "a";
  for (const problem of [regexError(long), re2Problem(long)]) {
    assert.match(problem!, /is 65537 characters long: longer than 65536, dietmesh's limit/);
    assert.ok(problem!.length < 200, "the message does not repeat the pattern");
  }
  assert.is(regexError("a".repeat(MAX_REGEX_LENGTH)), undefined);
});

test.run();
