import { test } from "uvu";
import * as assert from "uvu/assert";
import { factsFromRequest, queryParam } from "../../runtime/routing/request-facts.ts";

test("splits scheme, path and raw query from the URL", () => {
  const f = factsFromRequest(new Request("http://hello-istio.cloud:8080/api/hello?x=1&y=a%20b", { method: "POST" }), 8080);
  assert.is(f.method, "POST");
  assert.is(f.scheme, "http");
  assert.is(f.path, "/api/hello");
  assert.is(f.query, "x=1&y=a%20b");
  assert.is(f.port, 8080);
});

test("authority is the Host header as sent, else the URL's", () => {
  const withHost = factsFromRequest(new Request("http://a.b/", { headers: { host: "Hello-Istio.cloud:80" } }), 80);
  assert.is(withHost.authority, "Hello-Istio.cloud:80");
  const noHost = factsFromRequest(new Request("https://a.b:8443/x"), 8443);
  assert.is(noHost.authority, "a.b:8443");
  assert.is(noHost.scheme, "https");
  assert.is(noHost.query, "");
});

test("root path, and a query containing slashes", () => {
  const f = factsFromRequest(new Request("http://h/?next=/a/b"), 80);
  assert.is(f.path, "/");
  assert.is(f.query, "next=/a/b");
  assert.is(factsFromRequest(new Request("http://h"), 80).path, "/");
});

test("headers are the request's web Headers", () => {
  const f = factsFromRequest(new Request("http://h/", { headers: { "User-Agent": "Chrome" } }), 80);
  assert.is(f.headers.get("user-agent"), "Chrome");
});

test("queryParam: first value, raw; ?key and ?key= give empty string", () => {
  assert.is(queryParam("a=1&b=2&a=3", "a"), "1");
  assert.is(queryParam("a=1&b=2", "b"), "2");
  assert.is(queryParam("debug", "debug"), "");
  assert.is(queryParam("x=1&debug&y=2", "debug"), "");
  assert.is(queryParam("debug=", "debug"), "");
  assert.is(queryParam("debugx=1", "debug"), undefined);
  assert.is(queryParam("xdebug=1", "debug"), undefined);
  assert.is(queryParam("", "debug"), undefined);
  assert.is(queryParam("q=a%20b=c", "q"), "a%20b=c");
});

test.run();
