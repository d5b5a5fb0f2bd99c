import { test } from "uvu";
import * as assert from "uvu/assert";
import type { RequestFacts } from "../../runtime/routing/request-facts.ts";
import { compileRedirect, redirectError } from "../../runtime/routing/redirect.ts";

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  method: "GET", scheme: "http", authority: "hello-istio.cloud", path: "/old", query: "", headers: new Headers(), port: 80, ...over,
});
const loc = (r: Response) => r.headers.get("location");

test("defaults to 301 and keeps scheme, host, path and query", () => {
  const r = compileRedirect({})(facts({ query: "a=1" }));
  assert.is(r.status, 301);
  assert.is(loc(r), "http://hello-istio.cloud/old?a=1");
});

test("redirectCode is used", () => {
  for (const code of [301, 302, 303, 307, 308]) assert.is(compileRedirect({ redirectCode: code })(facts()).status, code);
});

test("uri replaces the whole path; the query is kept unless uri brings one", () => {
  assert.is(loc(compileRedirect({ uri: "/new" })(facts({ path: "/old/deep", query: "a=1" }))), "http://hello-istio.cloud/new?a=1");
  assert.is(loc(compileRedirect({ uri: "/new?b=2" })(facts({ query: "a=1" }))), "http://hello-istio.cloud/new?b=2");
  assert.is(loc(compileRedirect({ uri: "new" })(facts())), "http://hello-istio.cloud/new");
});

test("authority replaces the host (and its port)", () => {
  assert.is(loc(compileRedirect({ authority: "new.example" })(facts({ authority: "old.example:8080" }))), "http://new.example/old");
});

test("port and derivePort", () => {
  assert.is(loc(compileRedirect({ port: 8443, scheme: "https" })(facts({ authority: "h:8080" }))), "https://h:8443/old");
  assert.is(loc(compileRedirect({ port: 443, scheme: "https" })(facts({ authority: "h:8080" }))), "https://h/old");
  assert.is(loc(compileRedirect({ derivePort: "FROM_REQUEST_PORT" })(facts({ authority: "h", port: 9080 }))), "http://h:9080/old");
  assert.is(loc(compileRedirect({ derivePort: "FROM_PROTOCOL_DEFAULT", scheme: "https" })(facts({ authority: "h:8080" }))), "https://h/old");
  assert.is(loc(compileRedirect({ port: 9000 })(facts({ authority: "[::1]:80" }))), "http://[::1]:9000/old");
});

test("scheme change drops the old scheme's default port; other ports stay", () => {
  assert.is(loc(compileRedirect({ scheme: "https" })(facts({ authority: "h:80" }))), "https://h/old");
  assert.is(loc(compileRedirect({ scheme: "https" })(facts({ authority: "h:8080" }))), "https://h:8080/old");
  assert.is(loc(compileRedirect({})(facts({ authority: "h:80" }))), "http://h:80/old");
});

test("empty body; each call returns a fresh Response", async () => {
  const make = compileRedirect({ uri: "/x" });
  const a = make(facts());
  const b = make(facts());
  assert.is.not(a, b);
  assert.is(await a.text(), "");
});

test("redirectError rejects what Envoy cannot do and anything that would break Location", () => {
  assert.type(redirectError({ redirectCode: 300 }), "string");
  assert.type(redirectError({ redirectCode: 200 }), "string");
  assert.type(redirectError({ uri: "/a\r\nSet-Cookie: x" }), "string");
  assert.type(redirectError({ authority: "evil.com/path" }), "string");
  assert.type(redirectError({ authority: "a\nb" }), "string");
  assert.type(redirectError({ scheme: "ht tp" }), "string");
  assert.type(redirectError({ port: 70000 }), "string");
  assert.is(redirectError({ uri: "/new", authority: "h:8080", scheme: "https", redirectCode: 308 }), undefined);
});

test.run();
