// HTTP/2 header rules: pseudo-headers out of a request's Headers, connection-specific fields out of
// what is sent, TE only as "trailers", Set-Cookie values kept apart; what counts as gRPC.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { h2Fields, headersOfHead, isGrpc } from "../../../runtime/exchange/http2/fields.ts";

test("headersOfHead: regular fields only, repeated values appended", () => {
  const headers = headersOfHead({ ":method": "POST", ":path": "/x", ":authority": "a.example", "x-one": "1", "set-cookie": ["a=1", "b=2"] });
  assert.equal([...new Set(headers.keys())].sort(), ["set-cookie", "x-one"]);
  assert.equal(headers.getSetCookie(), ["a=1", "b=2"]);
});

test("h2Fields: connection-specific fields and Host dropped, TE kept only as trailers", () => {
  const headers = new Headers({ connection: "keep-alive", "keep-alive": "timeout=5", "transfer-encoding": "chunked", upgrade: "websocket", "proxy-connection": "x", host: "a.example", te: "trailers", "x-keep": "yes" });
  assert.equal(h2Fields(headers, { ":status": "200" }), { ":status": "200", te: "trailers", "x-keep": "yes" });
  assert.equal(h2Fields(new Headers({ te: "gzip" }), {}), {});
});

test("h2Fields: each Set-Cookie its own value", () => {
  const headers = new Headers();
  headers.append("set-cookie", "a=1; Path=/");
  headers.append("set-cookie", "b=2");
  assert.equal(h2Fields(headers, {})["set-cookie"], ["a=1; Path=/", "b=2"]);
});

test("isGrpc: application/grpc and its +suffixes, not grpc-web", () => {
  assert.ok(isGrpc(new Headers({ "content-type": "application/grpc" })));
  assert.ok(isGrpc(new Headers({ "content-type": "application/grpc+proto" })));
  assert.not.ok(isGrpc(new Headers({ "content-type": "application/grpc-web+proto" })));
  assert.not.ok(isGrpc(new Headers({ "content-type": "application/json" })));
  assert.not.ok(isGrpc(new Headers()));
});

test.run();
