// grpc-timeout as the request's timeout: the wire format (gRPC over HTTP/2) and how it combines
// with a VirtualService timeout the way Istio configures Envoy (max_grpc_timeout = route timeout).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseGrpcTimeout, requestTimeout } from "../../runtime/router/grpc-timeout.ts";

test("every unit of the header, rounded up to whole milliseconds", () => {
  assert.is(parseGrpcTimeout("2H"), 7_200_000);
  assert.is(parseGrpcTimeout("3M"), 180_000);
  assert.is(parseGrpcTimeout("5S"), 5000);
  assert.is(parseGrpcTimeout("250m"), 250);
  assert.is(parseGrpcTimeout("1500u"), 2);
  assert.is(parseGrpcTimeout("1n"), 1);
  assert.is(parseGrpcTimeout("99999999S"), 99_999_999_000);
});

test("malformed values and 0 are no deadline", () => {
  for (const bad of [null, "", "S", "5", "5s", "-5S", "5.0S", "123456789S", " 5S", "5 S", "0m"]) assert.is(parseGrpcTimeout(bad), undefined, String(bad));
});

test("no route timeout: the caller's deadline wins", () => {
  const headers = new Headers({ "grpc-timeout": "200m" });
  assert.equal(requestTimeout(undefined, true, headers), { ms: 200, deadline: true });
});

test("a route timeout caps the deadline, and applies alone without one", () => {
  assert.equal(requestTimeout(100, true, new Headers({ "grpc-timeout": "5S" })), { ms: 100, deadline: false });
  assert.equal(requestTimeout(10_000, true, new Headers({ "grpc-timeout": "5S" })), { ms: 5000, deadline: true });
  assert.equal(requestTimeout(100, true, new Headers()), { ms: 100, deadline: false });
  assert.equal(requestTimeout(undefined, true, new Headers()), { ms: undefined, deadline: false });
});

test("the header means nothing on a request that is not gRPC", () => {
  assert.equal(requestTimeout(undefined, false, new Headers({ "grpc-timeout": "1m" })), { ms: undefined, deadline: false });
});

test.run();
