// The URL the server hands the request path: the authority from Host or an absolute-form target,
// the path as a WHATWG URL parser normalizes it (what routing saw from the runtimes' servers).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { requestParts, requestUrl } from "../../../runtime/exchange/http1/request-url.ts";
import type { RequestHead } from "../../../runtime/exchange/http1/request-head.ts";

function head(target: string, host?: string): RequestHead {
  return { method: "GET", target, minor: 1, names: [], values: [], contentLength: -1, chunked: false, keepAlive: true, upgrade: false, expectContinue: false, host };
}

test("origin-form: Host names the authority; a plain path is taken as sent", () => {
  assert.is(requestUrl(head("/api/hello?x=1&y=a%20b", "hello-istio.cloud:8080"), "http"), "http://hello-istio.cloud:8080/api/hello?x=1&y=a%20b");
  assert.is(requestUrl(head("/", "h"), "https"), "https://h/");
});

test("paths are normalized exactly as the WHATWG URL parser does", () => {
  const targets = [
    "/a/../b", "/a/./b", "/a/%2e%2E/b", "/a/%2e/b", "/a\\b", "/%41", "/a b", "/é", "/a/..", "/..", "/a?x=../y",
    "/a?q=a b", "/a#frag", "/a/.%2e/b", "/a//b", "/a/b/", "/a;b", "/~user", "/a%2fb", "/a/.../b", "/.hidden",
  ];
  for (const target of targets) {
    const expected = new URL(target, "http://h");
    assert.is(requestUrl(head(target, "h"), "http"), `http://h${expected.pathname}${expected.search}`, target);
  }
});

test("absolute-form: the target's authority wins over Host (RFC 9112 §3.2.2)", () => {
  assert.is(requestUrl(head("http://deny.wild.example/x?y", "a.wild.example"), "http"), "http://deny.wild.example/x?y");
  assert.is(requestUrl(head("HTTP://svc:8080", "svc"), "http"), "http://svc:8080/");
  assert.is(requestUrl(head("http://svc:8080?q=1", undefined), "http"), "http://svc:8080/?q=1");
  assert.is(requestUrl(head("http://svc/a/../b", "svc"), "http"), "http://svc/b");
});

test("refused: no Host, a Host or authority that could split the URL, userinfo, other schemes", () => {
  const refusals: [string, string | undefined, string][] = [
    ["/x", undefined, "http1.missing_host"],
    ["/x", "a/b", "http1.invalid_host"],
    ["/x", "a?b", "http1.invalid_host"],
    ["/x", "a b", "http1.invalid_host"],
    ["/x", "a.example, b.example", "http1.invalid_host"],
    ["/x", "", "http1.invalid_host"],
    ["http://user@h/x", "h", "http1.invalid_host"],
    ["http:///x", "h", "http1.invalid_host"],
    ["ftp://h/x", "h", "http1.invalid_url"],
    ["h:80", "h", "http1.invalid_url"],
    ["*", "h", "http1.invalid_url"],
  ];
  for (const [target, host, details] of refusals) {
    const result = requestUrl(head(target, host), "http");
    assert.type(result, "object", `${target} Host ${host}`);
    assert.is((result as { details: string }).details, details, `${target} Host ${host}`);
    assert.is((result as { status: number }).status, 400);
  }
});

test("a connection's parts, reused: a Host or target unlike the previous request's is checked again", () => {
  const out = { scheme: "", authority: "", target: "", from: "" };
  assert.is(requestParts(head("/a/../b", "good.example"), "http", out), null);
  assert.equal([out.authority, out.target], ["good.example", "/b"]);
  assert.is(requestParts(head("/a/../b", "good.example"), "http", out), null);
  assert.equal([out.authority, out.target], ["good.example", "/b"]);
  assert.is(requestParts(head("/a/./c", "good.example"), "http", out), null);
  assert.is(out.target, "/a/c");
  assert.is(requestParts(head("http://other.example/x", "good.example"), "http", out), null);
  assert.is(requestParts(head("/x", "good.example"), "http", out), null);
  assert.equal([out.authority, out.target], ["good.example", "/x"]);
  assert.equal(requestParts(head("/", "bad/example"), "http", out), { status: 400, details: "http1.invalid_host" });
  assert.equal(requestParts(head("/", ""), "http", { scheme: "", authority: "", target: "", from: "" }), { status: 400, details: "http1.invalid_host" });
});

test.run();
