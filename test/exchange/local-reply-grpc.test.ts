// Local replies in gRPC form: HTTP 200, grpc-status by Envoy's HTTP → gRPC mapping, grpc-message
// percent-encoded, no body; a response that is not a local reply is left alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { grpcLocalReply, grpcMessageOf, localReply } from "../../runtime/exchange/local-reply.ts";
import { ProxyError } from "../../runtime/exchange/errors.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";

const grpcOf = (error: ProxyError) => grpcLocalReply(localReply(error, new RequestRecord(0)));

test("no healthy upstream (503) → UNAVAILABLE with the reply's text", () => {
  const r = grpcOf(new ProxyError("no-healthy-upstream"));
  assert.is(r.status, 200);
  assert.is(r.headers.get("content-type"), "application/grpc");
  assert.is(r.headers.get("grpc-status"), "14");
  assert.is(r.headers.get("grpc-message"), "no healthy upstream");
  assert.is(r.body, null);
  assert.not.ok(r.headers.has("content-length"));
});

test("Envoy's mapping: 404 → UNIMPLEMENTED, 403 → PERMISSION_DENIED, 401 → UNAUTHENTICATED, 400 → INTERNAL, 504 → UNAVAILABLE, 500 → UNKNOWN", () => {
  assert.is(grpcOf(new ProxyError("no-route")).headers.get("grpc-status"), "12");
  assert.is(grpcOf(new ProxyError("forbidden")).headers.get("grpc-status"), "7");
  assert.is(grpcOf(new ProxyError("unauthenticated")).headers.get("grpc-status"), "16");
  assert.is(grpcOf(new ProxyError("bad-request")).headers.get("grpc-status"), "13");
  assert.is(grpcOf(new ProxyError("upstream-timeout")).headers.get("grpc-status"), "14");
  assert.is(grpcOf(new ProxyError("internal")).headers.get("grpc-status"), "2");
});

test("a grpc-status a filter chose (fault abort.grpcStatus) stays", () => {
  const r = grpcOf(new ProxyError("fault-abort", undefined, 503, "", { "grpc-status": "8" }));
  assert.is(r.headers.get("grpc-status"), "8");
});

test("grpc-message: the reply's text, none for an empty one", () => {
  assert.not.ok(grpcOf(new ProxyError("no-route")).headers.has("grpc-message"));
  assert.is(grpcOf(new ProxyError("upstream-timeout")).headers.get("grpc-message"), "upstream request timeout");
});

test("grpc-message is percent-encoded outside printable ASCII and for %", () => {
  assert.is(grpcMessageOf("naïve 100% ok"), "na%C3%AFve 100%25 ok");
  assert.is(grpcMessageOf("line\nbreak"), "line%0Abreak");
});

test("an upstream's response is not a local reply: unchanged", () => {
  const upstream = new Response("x", { status: 503 });
  assert.is(grpcLocalReply(upstream), upstream);
});

test.run();
