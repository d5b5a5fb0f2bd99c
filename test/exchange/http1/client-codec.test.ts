// The HTTP/1.1 codec on its own: response heads, chunked bodies, request heads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseHead, ResponseHead } from "../../../runtime/exchange/http1/response-head.ts";
import { CHUNKED_DONE, ChunkedDecoder } from "../../../runtime/exchange/http1/chunked.ts";
import { requestHead } from "../../../runtime/exchange/http1/request-head-writer.ts";
import { HeaderList } from "../../../runtime/exchange/header-list.ts";
import { headBytes, latin1Bytes } from "../../../runtime/platform/http1/bytes.ts";

function head(text: string): ResponseHead | string {
  const out = new ResponseHead();
  return parseHead(text, out) ?? out;
}

test("status line, headers in order, framing and reuse facts", () => {
  const h = head("HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nSet-Cookie: a\r\nset-cookie: b\r\nX-Empty:\r\nConnection: Keep-Alive, Upgrade") as ResponseHead;
  assert.is(h.status, 404);
  assert.is(h.statusText, "Not Found");
  assert.is(h.contentLength, 12);
  assert.equal(h.names.slice(0, h.count), ["Content-Length", "Set-Cookie", "set-cookie", "X-Empty", "Connection"]);
  assert.equal(h.values.slice(0, h.count), ["12", "a", "b", "", "Keep-Alive, Upgrade"]);
  assert.ok(h.keepAlive);
  const old = head("HTTP/1.0 200 OK\r\ncontent-length: 1") as ResponseHead;
  assert.not.ok(old.keepAlive, "HTTP/1.0 closes unless it says keep-alive");
  assert.ok((head("HTTP/1.0 200 OK\r\nconnection: keep-alive") as ResponseHead).keepAlive);
  assert.not.ok((head("HTTP/1.1 200 OK\r\nconnection: close") as ResponseHead).keepAlive);
  assert.is((head("HTTP/1.1 200") as ResponseHead).statusText, "", "the reason phrase is optional");
});

test("a reused head takes each value from its own response: a repeat of the previous one, or a new one of the same length", () => {
  const out = new ResponseHead();
  assert.is(parseHead("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nDate: Mon, 07 Dec 2026 05:00:00 GMT\r\nX-A: 1", out), null);
  assert.is(parseHead("HTTP/1.1 200 OK\r\nContent-Length: 34\r\nDate: Mon, 07 Dec 2026 05:00:00 GMT", out), null);
  assert.equal([out.names.slice(0, out.count), out.values.slice(0, out.count), out.contentLength], [["Content-Length", "Date"], ["34", "Mon, 07 Dec 2026 05:00:00 GMT"], 34]);
});

test("transfer-encoding: the last coding decides", () => {
  assert.ok((head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked") as ResponseHead).chunked);
  const notChunked = head("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip") as ResponseHead;
  assert.ok(notChunked.transferEncoding);
  assert.not.ok(notChunked.chunked);
});

test("malformed heads are refused", () => {
  for (const bad of [
    "HTTP/2 200 OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.1 200OK",
    "HTTP/1.1 200 OK\r\nno colon",
    "HTTP/1.1 200 OK\r\nx: 1\r\n folded",
    "HTTP/1.1 200 OK\r\ncontent-length: -1",
    "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2",
    "HTTP/1.1 200 OK\r\n" + "x: 1\r\n".repeat(101),
  ]) {
    assert.type(head(bad), "string", bad);
  }
  assert.is((head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5") as ResponseHead).contentLength, 5, "repeats that agree are fine");
});

function decode(wire: string, pieces = 1): { body: string; state: number; used: number } | string {
  const bytes = latin1Bytes(wire);
  const d = new ChunkedDecoder();
  let body = "";
  const sink = { onBodyBytes: (b: Uint8Array) => (body += new TextDecoder().decode(b)) };
  const step = Math.ceil(bytes.byteLength / pieces);
  let used = 0;
  for (let o = 0; o < bytes.byteLength && d.state !== CHUNKED_DONE; o += step) {
    const end = Math.min(o + step, bytes.byteLength);
    const r = d.decode(bytes, o, end, sink);
    if (r < 0) return d.error;
    used = r;
  }
  return { body, state: d.state, used };
}

test("chunked: sizes in hex, extensions and trailers skipped, in one piece or byte by byte", () => {
  const wire = "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\ntrailer: x\r\n\r\nNEXT";
  for (const pieces of [1, 3, wire.length]) {
    const r = decode(wire, pieces) as { body: string; state: number; used: number };
    assert.is(r.body, "hello, world!!!", `in ${pieces} pieces`);
    assert.is(r.state, CHUNKED_DONE);
  }
  assert.is((decode(wire) as { used: number }).used, wire.length - 4, "stops before what follows the body");
  for (const bad of ["x\r\n", "5\r\nhelloXX", "5\nhello\r\n0\r\n\r\n", "ffffffffffffff\r\n"]) assert.type(decode(bad), "string", bad);
});

test("request head: as given, chunked only when a body has no length", () => {
  const out = { contentLength: -1 };
  const h = new Headers({ host: "a.b:80", "x-id": "1" });
  assert.is(requestHead("GET", "/p?q", h, false, out), "GET /p?q HTTP/1.1\r\nhost: a.b:80\r\nx-id: 1\r\n\r\n");
  assert.is(requestHead("POST", "/", h, true, out), "POST / HTTP/1.1\r\nhost: a.b:80\r\nx-id: 1\r\ntransfer-encoding: chunked\r\n\r\n");
  h.set("content-length", "3");
  assert.is(requestHead("POST", "/", h, true, out), "POST / HTTP/1.1\r\ncontent-length: 3\r\nhost: a.b:80\r\nx-id: 1\r\n\r\n");
  assert.is(out.contentLength, 3);
  assert.throws(() => requestHead("GET", "/", h, false, out), /content-length without a body/);
  assert.throws(() => requestHead("G T", "/", new Headers(), false, out), TypeError);
  assert.throws(() => requestHead("GET", "/a b", new Headers(), false, out), TypeError);
  assert.throws(() => requestHead("GET", "/\r\nx: 1", new Headers(), false, out), TypeError);
});

test("request head from a header list: the fields in the order they came, its framing fields read, CR and LF never in it", () => {
  const out = { contentLength: -1 };
  const h = new HeaderList([["x-b", "2"], ["host", "a.b"], ["x-a", "1"], ["x-a", "0"]]);
  assert.is(requestHead("GET", "/p", h, false, out), "GET /p HTTP/1.1\r\nx-b: 2\r\nhost: a.b\r\nx-a: 1\r\nx-a: 0\r\n\r\n");
  assert.is(out.contentLength, -1);
  assert.is(requestHead("PUT", "/", h, true, out), "PUT / HTTP/1.1\r\nx-b: 2\r\nhost: a.b\r\nx-a: 1\r\nx-a: 0\r\ntransfer-encoding: chunked\r\n\r\n");
  h.append("content-length", "7");
  assert.is(requestHead("PUT", "/", h, true, out), "PUT / HTTP/1.1\r\nx-b: 2\r\nhost: a.b\r\nx-a: 1\r\nx-a: 0\r\ncontent-length: 7\r\n\r\n");
  assert.is(out.contentLength, 7);
  h.set("content-length", "x");
  assert.throws(() => requestHead("PUT", "/", h, true, out), /invalid content-length/);
  h.delete("content-length");
  h.append("transfer-encoding", "chunked");
  assert.is(requestHead("PUT", "/", h, true, out), "PUT / HTTP/1.1\r\nx-b: 2\r\nhost: a.b\r\nx-a: 1\r\nx-a: 0\r\ntransfer-encoding: chunked\r\n\r\n");
  // what the writer no longer searches for cannot get in: the list refuses it
  assert.throws(() => h.set("x-c", "a\r\nx-d: 1"), TypeError);
  assert.throws(() => h.append("x-c\r\nx-d", "1"), TypeError);
  assert.throws(() => requestHead("GET", "/a\r\nx: 1", h, false, out), TypeError);
  assert.throws(() => requestHead("G T", "/", h, false, out), TypeError);
});

test("latin1 both ways: obs-text bytes keep their value", () => {
  assert.equal([...latin1Bytes("caf\u00e9")], [99, 97, 102, 0xe9]);
  assert.equal([...latin1Bytes("\u00ff\u0080a", new Uint8Array([1, 2]))], [0xff, 0x80, 97, 1, 2]);
});

test("latin1Bytes: a head and its tail in one array; arrays handed out never share bytes", () => {
  assert.equal([...latin1Bytes("ab", new Uint8Array([0, 255]))], [97, 98, 0, 255]);
  assert.equal([...latin1Bytes("")], []);
  // many small heads (past any pooled slab's end) and a large one: each keeps its own bytes
  const kept: [Uint8Array, number][] = [];
  for (let i = 0; i < 3000; i++) kept.push([latin1Bytes(`HTTP/1.1 200 OK\r\nx-n: ${i}\r\n\r\n`, new Uint8Array([i & 255])), i]);
  const big = "x".repeat(40_000);
  const large = latin1Bytes(big, new Uint8Array([7]));
  assert.is(large.byteLength, 40_001);
  assert.is(large[40_000], 7);
  for (const [bytes, i] of kept) {
    const text = `HTTP/1.1 200 OK\r\nx-n: ${i}\r\n\r\n`;
    assert.is(String.fromCharCode(...bytes.subarray(0, text.length)), text);
    assert.is(bytes[text.length], i & 255);
    assert.is(bytes.byteLength, text.length + 1);
  }
});

test("headBytes: fields short and long, obs-text kept, a tail after; heads handed out never share bytes", () => {
  const names = ["host", "x-forwarded-proto", "x-n", "x-obs-text", "content-type"];
  const kept: [Uint8Array, string][] = [];
  for (let i = 0; i < 3000; i++) {
    const values = [`h${i}`, "http", String(i), i % 3 ? "caf\u00e9 \u00ff" : "caf\u00e9 \u00ff and more than twelve", i % 2 ? "text/plain;charset=utf-8" : ""];
    const text = `HTTP/1.1 200 OK\r\n${names.map((n, k) => `${n}: ${values[k]}\r\n`).join("")}x-last: 1\r\n\r\n`;
    kept.push([headBytes("HTTP/1.1 200 OK\r\n", names, values, names.length, "x-last: 1\r\n\r\n", new Uint8Array([i & 255])), text + String.fromCharCode(i & 255)]);
  }
  for (const [bytes, text] of kept) assert.equal([...bytes], Array.from(text, (c) => c.charCodeAt(0)));
});

test.run();
