import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileStringMatch, isPresentMatch, stringMatchError } from "../../runtime/routing/string-match.ts";
import { loadRegexEngine } from "../../runtime/routing/regex.ts";

// the RE2 engine loads with a config that has a regex (config/load-engines.ts); here, once for all
await loadRegexEngine();

test("exact matches the whole value, case-sensitively", () => {
  const m = compileStringMatch({ exact: "/api/hello" })!;
  assert.ok(m("/api/hello"));
  assert.not.ok(m("/api/hello/"));
  assert.not.ok(m("/API/hello"));
});

test("prefix is a raw string prefix: /api matches /apiv2", () => {
  const m = compileStringMatch({ prefix: "/api" })!;
  assert.ok(m("/api"));
  assert.ok(m("/api/x"));
  assert.ok(m("/apiv2"));
  assert.not.ok(m("/ap"));
  assert.not.ok(m("/v2/api"));
});

test("ignoreCase applies to exact and prefix (ASCII folding)", () => {
  assert.ok(compileStringMatch({ exact: "/Api/Hello" }, true)!("/aPI/hELLO"));
  assert.not.ok(compileStringMatch({ exact: "/api" }, true)!("/apix"));
  assert.ok(compileStringMatch({ prefix: "/API" }, true)!("/apiv2"));
  assert.not.ok(compileStringMatch({ prefix: "/API" }, true)!("/ap"));
});

test("ignoreCase has no effect on regex", () => {
  const m = compileStringMatch({ regex: "/api/.*" }, true)!;
  assert.ok(m("/api/x"));
  assert.not.ok(m("/API/x"));
});

test("regex is a whole-value RE2 match", () => {
  const m = compileStringMatch({ regex: "v[12]" })!;
  assert.ok(m("v1"));
  assert.not.ok(m("v12"));
});

test("{} and regex '*' are present matches (null predicate); empty exact is not", () => {
  assert.is(compileStringMatch({}), null);
  assert.is(compileStringMatch(undefined), null);
  assert.is(compileStringMatch({ regex: "*" }), null);
  assert.ok(isPresentMatch({}));
  assert.ok(isPresentMatch({ regex: "*" }));
  assert.not.ok(isPresentMatch({ exact: "" }));
  const empty = compileStringMatch({ exact: "" })!;
  assert.ok(empty(""));
  assert.not.ok(empty("x"));
});

test("stringMatchError reports bad regexes and several kinds at once", () => {
  assert.type(stringMatchError({ regex: "(?=x)" }), "string");
  assert.type(stringMatchError({ exact: "a", prefix: "b" }), "string");
  assert.is(stringMatchError({ regex: "*" }), undefined);
  assert.is(stringMatchError({ prefix: "/" }), undefined);
});

test.run();
