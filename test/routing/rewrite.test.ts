import { test } from "uvu";
import * as assert from "uvu/assert";
import type { RequestFacts } from "../../runtime/routing/request-facts.ts";
import { compileRewrite, rewriteAuthority, rewriteError } from "../../runtime/routing/rewrite.ts";
import { loadRegexEngine } from "../../runtime/routing/regex.ts";

// the RE2 engine loads with a config that has a regex (config/load-engines.ts); here, once for all
await loadRegexEngine();

const facts = (path: string, query = ""): RequestFacts => ({
  method: "GET", scheme: "http", authority: "reviews", path, query, headers: new Headers(), port: 80,
});

test("uri after a prefix match replaces only the matched prefix, query kept", () => {
  const rw = compileRewrite({ uri: "/v2" }, { uri: { prefix: "/api" } })!;
  assert.is(rw(facts("/api/users", "x=1")), "/v2/users?x=1");
  assert.is(rw(facts("/apiv2")), "/v2v2"); // raw prefix, as Envoy's prefix_rewrite
  assert.is(rw(facts("/api")), "/v2");
});

test("uri after an exact or regex match replaces the whole path, query kept", () => {
  assert.is(compileRewrite({ uri: "/new" }, { uri: { exact: "/old/page" } })!(facts("/old/page", "a=b")), "/new?a=b");
  assert.is(compileRewrite({ uri: "/new" }, { uri: { regex: "/old/.*" } })!(facts("/old/x/y")), "/new");
});

test("uri with no uri match replaces Envoy's implicit prefix \"/\"", () => {
  assert.is(compileRewrite({ uri: "/v2/" }, undefined)!(facts("/x")), "/v2/x");
  assert.is(compileRewrite({ uri: "/v2/" }, { headers: { a: {} } })!(facts("/x")), "/v2/x");
});

test("ignoreUriCase prefix: the matched length is replaced", () => {
  assert.is(compileRewrite({ uri: "/v2" }, { uri: { prefix: "/API" }, ignoreUriCase: true })!(facts("/api/x")), "/v2/x");
});

test("uriRegexRewrite substitutes capture groups (\\1) on every match, query kept", () => {
  const rw = compileRewrite({ uriRegexRewrite: { match: "^/service/([^/]+)(/.*)$", rewrite: "\\2/instance/\\1" } }, undefined)!;
  assert.is(rw(facts("/service/foo/v1/api", "q=1")), "/v1/api/instance/foo?q=1");
  const all = compileRewrite({ uriRegexRewrite: { match: "a", rewrite: "b" } }, undefined)!;
  assert.is(all(facts("/aaa")), "/bbb");
  const whole = compileRewrite({ uriRegexRewrite: { match: "/x/(.*)", rewrite: "[\\0]\\\\" } }, undefined)!;
  assert.is(whole(facts("/x/y")), "[/x/y]\\");
  const missing = compileRewrite({ uriRegexRewrite: { match: "/(a)?b", rewrite: "/<\\1>" } }, undefined)!;
  assert.is(missing(facts("/b")), "/<>");
});

test("no path rewrite → null", () => {
  assert.is(compileRewrite(undefined, undefined), null);
  assert.is(compileRewrite({ authority: "x" }, undefined), null);
});

test("authority: rewrite wins over route headers host, which wins over the destination's", () => {
  assert.is(rewriteAuthority({ authority: "rw" }, { request: { set: { host: "route" } } }, { request: { set: { host: "dest" } } }), "rw");
  assert.is(rewriteAuthority(undefined, { request: { set: { host: "route" } } }, { request: { set: { host: "dest" } } }), "route");
  assert.is(rewriteAuthority(undefined, undefined, { request: { set: { host: "dest" } } }), "dest");
  assert.is(rewriteAuthority(undefined, undefined), undefined);
});

test("rewriteError: exclusive fields, bad regex, bad group references, unsafe values", () => {
  assert.type(rewriteError({ uri: "/a", uriRegexRewrite: { match: "a", rewrite: "b" } }), "string");
  assert.type(rewriteError({ uriRegexRewrite: { match: "(?=a)", rewrite: "b" } }), "string");
  assert.type(rewriteError({ uriRegexRewrite: { match: "(a)", rewrite: "\\2" } }), "string");
  assert.type(rewriteError({ uriRegexRewrite: { match: "(a)", rewrite: "\\x" } }), "string");
  assert.type(rewriteError({ uri: "/a\r\nx: y" }), "string");
  assert.type(rewriteError({ authority: "a b" }), "string");
  assert.is(rewriteError({ uriRegexRewrite: { match: "(a)", rewrite: "\\1" } }), undefined);
  assert.is(rewriteError({ uri: "/v2", authority: "reviews.prod" }), undefined);
});

test.run();
