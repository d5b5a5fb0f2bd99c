// An upstream HTTP/2 answer as the router forwards it: a gRPC Trailers-Only answer (grpc-status in
// the head) goes on as one HEADERS frame even when the server ended it with an empty DATA frame,
// so a gRPC client does not read its head as initial metadata and then miss the status.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { toH2Request, toResponse } from "../../../runtime/upstream/http2/messages.ts";

const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });

test("grpc-status in the head: no body, no trailers, the status kept", () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({ cancel: () => void (cancelled = true) });
  const r = toResponse({ head: { ":status": "200", "grpc-status": "14", "grpc-message": "down" }, body, trailers: Promise.resolve(undefined) });
  assert.is(r.body, null);
  assert.is(r.trailers, undefined);
  assert.is(r.headers.get("grpc-status"), "14");
  assert.ok(cancelled, "the upstream's empty remainder is let go");
});

test("a head that ended the stream has no trailers to wait for", () => {
  const r = toResponse({ head: { ":status": "204" }, body: null, trailers: Promise.resolve(undefined) });
  assert.is(r.trailers, undefined);
});

test("a normal gRPC answer keeps its body and trailers", async () => {
  const r = toResponse({ head: { ":status": "200", "content-type": "application/grpc" }, body: empty(), trailers: Promise.resolve({ "grpc-status": "0" }) });
  assert.ok(r.body);
  assert.is((await r.trailers)?.get("grpc-status"), "0");
});

test("a request with a body forwards its trailers; one without a body has none to wait for", async () => {
  const base = { url: "http://10.0.0.1:9000/dm.Echo/Unary", method: "POST", headers: new Headers({ host: "echo" }), trailers: Promise.resolve(new Headers({ "x-t": "1", connection: "x" })) };
  const withBody = toH2Request({ ...base, body: empty() }, "10.0.0.1:9000");
  assert.equal(await withBody.trailers, { "x-t": "1" });
  const without = toH2Request({ ...base, body: null }, "10.0.0.1:9000");
  assert.is(without.trailers, undefined);
});

test.run();
