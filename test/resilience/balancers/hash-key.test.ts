// hashKeyFor: the consistent-hash input read from a header, a cookie, the source IP or a query parameter.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { hashKeyFor } from "../../../runtime/resilience/balancers/index.ts";

test("hashKeyFor reads each source", () => {
  const req = new Request("http://svc/path?user=a%20b&user=second&x=1", {
    headers: { "x-user": "u-1", cookie: 'theme=dark; session="abc123"; other=2' },
  });
  assert.is(hashKeyFor({ httpHeaderName: "X-User" }, req, "10.0.0.9"), "u-1");
  assert.is(hashKeyFor({ httpHeaderName: "x-missing" }, req, "10.0.0.9"), undefined);
  assert.is(hashKeyFor({ httpCookie: { name: "session", ttl: 0 } }, req, ""), "abc123");
  assert.is(hashKeyFor({ httpCookie: { name: "theme" } }, req, ""), "dark");
  assert.is(hashKeyFor({ httpCookie: { name: "absent", ttl: 60_000 } }, req, ""), undefined);
  assert.is(hashKeyFor({ httpCookie: { name: "x" } }, new Request("http://svc/"), ""), undefined);
  assert.is(hashKeyFor({ useSourceIp: true }, req, "10.0.0.9"), "10.0.0.9");
  assert.is(hashKeyFor({ httpQueryParameterName: "user" }, req, ""), "a b");
  assert.is(hashKeyFor({ httpQueryParameterName: "nope" }, req, ""), undefined);
  assert.is(hashKeyFor({ httpQueryParameterName: "user" }, new Request("http://svc/p"), ""), undefined);
  assert.is(hashKeyFor({}, req, "10.0.0.9"), undefined);
});

test("the first cookie of that name counts, across joined Cookie headers", () => {
  const req = new Request("http://svc/", { headers: [["cookie", "a=1"], ["cookie", "sid=x; sid=y"]] });
  assert.is(hashKeyFor({ httpCookie: { name: "sid" } }, req, ""), "x");
  assert.is(hashKeyFor({ httpCookie: { name: "a" } }, req, ""), "1");
});

test.run();
