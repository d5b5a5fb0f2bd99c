// The header-block limits of the platform's HTTP/2 listener (runtime/platform/http2-head-limits.ts),
// in this process with the real curl as the client: a block at both limits reaches onStream, one
// field or one byte more is reset (RST_STREAM INTERNAL_ERROR, curl exit 92) and never does; limits
// above node:http2's own defaults (128 fields, a 64 KiB list) are honoured, not cut short by them.
// A request's trailer block (sent by Node's client: curl sends none) is held to the same limits on
// its own: over them the stream is reset and the request's body fails instead of ending.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { headBlockCheck, nodeHeaderOptions } from "../../runtime/platform/http2-head-limits.ts";
import type { H2HeadLimits, SocketServer } from "../../runtime/platform/types.ts";
import { h2Get, type H2Target } from "../support/h2-head-block.ts";
import { root, run } from "../support/mesh.ts";

const bigHead = `${root}test/support/h2-big-head.mjs`;
const withTrailers = `${root}test/support/h2-trailers.mjs`;

test("the check: fields and name + value lengths, pseudo-headers included; at the limit passes, one over does not", () => {
  const over = headBlockCheck({ maxHeaders: 3, maxHeadBytes: 20 });
  assert.is(over([":method", "GET", ":path", "/", "a", "b"]), false); // 3 fields, 18 bytes
  assert.is(over([":method", "GET", ":path", "/", "a", "b", "c", "d"]), true); // 4 fields
  assert.is(over([":method", "GET", ":path", "/", "a", "bbb"]), false); // 20 bytes
  assert.is(over([":method", "GET", ":path", "/", "a", "bbbb"]), true); // 21 bytes
});

test("node:http2's own limits are set wide of ours: twice the largest block ours takes, in RFC 9113's 32-octet-per-field measure", () => {
  const { maxHeaderListSize, maxHeaderListPairs } = nodeHeaderOptions({ maxHeaders: 100, maxHeadBytes: 60 * 1024 });
  assert.is(maxHeaderListSize, 2 * (60 * 1024 + 32 * 100));
  assert.ok(maxHeaderListPairs * 32 > maxHeaderListSize);
});

/** the platform's h2c listener with limits; onStream answers 200 and records the path */
async function listener(limits: H2HeadLimits): Promise<{ server: SocketServer; seen: string[]; target: H2Target }> {
  const seen: string[] = [];
  const server = await platform.serveHttp2({
    hostname: "127.0.0.1",
    port: 0,
    limits,
    onStream(stream) {
      seen.push(String(stream.head[":path"]));
      stream.respond({ ":status": "200" }, null);
    },
  });
  return { server, seen, target: { origin: `http://127.0.0.1:${server.port}`, authority: "limits.example", curl: ["--http2-prior-knowledge"] } };
}

test("8 fields and 1 KiB: at both limits served; a ninth field, or a 1025th byte, reset before onStream, each reset told to limits.overflowed", async () => {
  const overflowed: string[] = [];
  const { server, seen, target } = await listener({ maxHeaders: 8, maxHeadBytes: 1024, overflowed: (codec) => void overflowed.push(codec) });
  try {
    const at = await h2Get(target, "/at-limits", 8, 1024);
    assert.is(at.code, 0, at.out);
    assert.is(at.status, 200, at.out);
    for (const [path, fields, bytes] of [["/ninth-field", 9, undefined], ["/one-byte-over", 8, 1025], ["/one-byte-over-few-fields", 5, 1025]] as const) {
      const r = await h2Get(target, path, fields, bytes);
      assert.is(r.code, 92, `${path}: ${r.out}`);
      assert.match(r.out, /INTERNAL_ERROR/, path);
    }
    assert.equal(seen, ["/at-limits"]);
    // the connection-level state is untouched: the next stream is served
    assert.is((await h2Get(target, "/after", 6)).status, 200);
    assert.equal(overflowed, ["http2", "http2", "http2"]);
  } finally {
    await server.stop(true);
  }
});

test("limits above node:http2's defaults (128 fields, 64 KiB): 300 fields and 100 KiB are served; one more field, or 100 KiB + 1, reset", async () => {
  const { server, seen, target } = await listener({ maxHeaders: 300, maxHeadBytes: 100 * 1024 });
  try {
    const many = await h2Get(target, "/many", 300);
    assert.is(many.status, 200, many.out);
    const over = await h2Get(target, "/many-plus-one", 301);
    assert.is(over.code, 92, over.out);
    // over curl's own 64 KiB: Node's client. Two fields of about 51,000 bytes (each under HPACK's
    // 64 KiB per field) and the pseudo-headers: 102,400 bytes exactly, then one more
    const big = await run("node", [bigHead, `127.0.0.1:${server.port}`, "/big-at", "6", String(100 * 1024)]);
    assert.match(big.out, /status 200/);
    const bigOver = await run("node", [bigHead, `127.0.0.1:${server.port}`, "/big-over", "6", String(100 * 1024 + 1)]);
    assert.match(bigOver.out, /reset 2\b/);
    assert.equal(seen, ["/many", "/big-at"]);
  } finally {
    await server.stop(true);
  }
});

test("trailers: a block at both limits after a header block at both (each measured on its own) is delivered; one field or one byte over resets the stream, the body fails, limits.overflowed is told", async () => {
  // what onStream saw of each request: its body (or why it failed) and its trailers, then a 200
  const seen: Record<string, { body: string; trailers?: number }> = {};
  const overflowed: string[] = [];
  const server = await platform.serveHttp2({
    hostname: "127.0.0.1",
    port: 0,
    limits: { maxHeaders: 8, maxHeadBytes: 1024, overflowed: (codec) => void overflowed.push(codec) },
    async onStream(stream) {
      const record = (seen[String(stream.head[":path"])] = { body: "" as string, trailers: undefined as number | undefined });
      try {
        record.body = await new Response(stream.body).text();
      } catch (error) {
        record.body = `failed: ${(error as Error).message}`;
      }
      const trailers = await stream.trailers;
      record.trailers = trailers && Object.keys(trailers).length;
      stream.respond({ ":status": "200" }, null);
    },
  });
  const post = (path: string, fields: number, bytes: number | "-") => run("node", [withTrailers, `http://127.0.0.1:${server.port}`, "limits.example", path, "8", "1024", String(fields), String(bytes)]);
  try {
    const at = await post("/at-limits", 8, 1024);
    assert.match(at.out, /status 200/);
    assert.equal(seen["/at-limits"], { body: "body", trailers: 8 });
    for (const [path, fields, bytes] of [["/ninth-trailer", 9, "-"], ["/one-byte-over", 8, 1025], ["/one-byte-over-one-field", 1, 1025]] as const) {
      const r = await post(path, fields, bytes);
      assert.match(r.out, /reset 2\b/, `${path}: ${r.out}`); // INTERNAL_ERROR
      assert.match(seen[path]?.body ?? "", /^failed: /, path);
      assert.is(seen[path].trailers, undefined, path);
    }
    assert.equal(overflowed, ["http2", "http2", "http2"]);
  } finally {
    await server.stop(true);
  }
});

test.run();
