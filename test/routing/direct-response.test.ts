import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileDirectResponse, directResponseError } from "../../runtime/routing/direct-response.ts";

test("status and string body", async () => {
  const make = compileDirectResponse({ status: 503, body: { string: "unavailable ✓" } });
  const r = make();
  assert.is(r.status, 503);
  assert.is(r.headers.get("content-type"), "text/plain");
  assert.is(await r.text(), "unavailable ✓");
  assert.is(await make().text(), "unavailable ✓"); // a fresh Response each time
});

test("bytes body is base64 in YAML and sent raw", async () => {
  const r = compileDirectResponse({ status: 200, body: { bytes: "AAH/" } })();
  assert.equal([...new Uint8Array(await r.arrayBuffer())], [0, 1, 255]);
});

test("no body; statuses that forbid a body never get one", async () => {
  const r = compileDirectResponse({ status: 418 })();
  assert.is(r.status, 418);
  assert.is(await r.text(), "");
  assert.is(compileDirectResponse({ status: 204, body: { string: "ignored" } })().status, 204);
});

test("directResponseError", () => {
  assert.type(directResponseError({ status: 100 }), "string");
  assert.type(directResponseError({ status: 600 }), "string");
  assert.type(directResponseError({ status: 200, body: { bytes: "not base64!" } }), "string");
  assert.type(directResponseError({ status: 200, body: { string: "a", bytes: "YQ==" } }), "string");
  assert.is(directResponseError({ status: 404, body: { string: "nope" } }), undefined);
});

test.run();
