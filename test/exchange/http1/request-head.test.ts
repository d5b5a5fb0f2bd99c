// The request-head parser and reader on their own: what a good head becomes, every refusal with
// Envoy's status and details, limits, raw bytes, pieces, pipelining, and the inputs on which the
// differential fuzz (request-fuzz.test.ts) once disagreed with llhttp, kept as regressions.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  DEFAULT_HEAD_LIMITS, latin1, latin1Loop, newRequestHead, parseRequestHead, RequestHeadReader, type HeadError, type RequestHead,
} from "../../../runtime/exchange/http1/request-head.ts";

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** a whole request (head and its CRLFCRLF) through the reader in one chunk */
function read(text: string): RequestHead | HeadError {
  const reader = new RequestHeadReader();
  const head = newRequestHead();
  const at = reader.read(bytes(text), head);
  if (at >= 0) return head;
  return reader.error ?? { status: 0, details: "incomplete" };
}

function ok(text: string): RequestHead {
  const result = read(text);
  assert.ok("method" in result, `${JSON.stringify(text)} refused: ${JSON.stringify(result)}`);
  return result as RequestHead;
}

function refused(text: string, status: number, details: string): void {
  const result = read(text);
  assert.equal(result, { status, details }, JSON.stringify(text));
}

const H = "Host: a\r\n";

test("a head becomes method, target, version, lower-cased names and trimmed values in order", () => {
  const h = ok("POST /api/x?y=1 HTTP/1.1\r\nHost: svc:8080\r\nX-Multi:  a  b \t\r\nx-multi: c\r\nContent-Length: 12\r\nEMPTY:\r\n\r\n");
  assert.is(h.method, "POST");
  assert.is(h.target, "/api/x?y=1");
  assert.is(h.minor, 1);
  assert.equal(h.names, ["host", "x-multi", "x-multi", "content-length", "empty"]);
  assert.equal(h.values, ["svc:8080", "a  b", "c", "12", ""]);
  assert.is(h.contentLength, 12);
  assert.is(h.host, "svc:8080");
  assert.ok(h.keepAlive);
  assert.not.ok(h.chunked || h.upgrade || h.expectContinue);
});

test("a reused record forgets the previous head", () => {
  const reader = new RequestHeadReader();
  const head = newRequestHead();
  assert.ok(reader.read(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nX: 1\r\nY: 2\r\n\r\n"), head) > 0);
  assert.ok(head.chunked && head.expectContinue);
  assert.ok(reader.read(bytes("GET / HTTP/1.0\r\n\r\n"), head) > 0);
  assert.equal([head.names, head.values, head.chunked, head.expectContinue, head.contentLength, head.host, head.minor], [[], [], false, false, -1, undefined, 0]);
});

test("a reused record takes each value from its own head: a repeat of the previous one, or a new one of the same length", () => {
  const head = newRequestHead();
  assert.is(parseRequestHead("GET / HTTP/1.1\r\nHost: aaaa\r\nX-A: 1\r\nX-B: same", head), null);
  assert.is(parseRequestHead("GET / HTTP/1.1\r\nHost: bbbb\r\nX-C: 2\r\nX-B: same\r\nX-D: 3", head), null);
  assert.equal([head.names, head.values, head.host], [["host", "x-c", "x-b", "x-d"], ["bbbb", "2", "same", "3"], "bbbb"]);
  assert.is(parseRequestHead("GET / HTTP/1.1\r\nHost: bbbb", head), null);
  assert.equal([head.names, head.values], [["host"], ["bbbb"]]);
});

test("keep-alive: HTTP/1.1 unless close; HTTP/1.0 only with keep-alive; close wins", () => {
  assert.ok(ok("GET / HTTP/1.1\r\n" + H + "\r\n").keepAlive);
  assert.not.ok(ok("GET / HTTP/1.1\r\n" + H + "Connection: Close\r\n\r\n").keepAlive);
  assert.not.ok(ok("GET / HTTP/1.1\r\n" + H + "Connection: upgrade\r\nConnection: x, close\r\n\r\n").keepAlive, "any Connection line");
  assert.not.ok(ok("GET / HTTP/1.0\r\n\r\n").keepAlive);
  assert.ok(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive);
  assert.not.ok(ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keepAlive);
  assert.not.ok(ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n").keepAlive, "RFC 9112 §6.1");
  assert.ok(ok("GET / HTTP/1.1\r\n" + H + "Connection: closed\r\n\r\n").keepAlive, "tokens, not substrings");
  assert.ok(ok("GET / HTTP/1.1\r\n" + H + "Proxy-Connection: close\r\n\r\n").keepAlive, "Proxy-Connection is not Connection");
});

test("upgrade: Connection names upgrade and an Upgrade header is present, or CONNECT", () => {
  assert.ok(ok("GET / HTTP/1.1\r\n" + H + "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade);
  assert.not.ok(ok("GET / HTTP/1.1\r\n" + H + "Connection: upgrade\r\n\r\n").upgrade);
  assert.not.ok(ok("GET / HTTP/1.1\r\n" + H + "Upgrade: websocket\r\n\r\n").upgrade);
  const connect = ok("CONNECT svc:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n");
  assert.ok(connect.upgrade);
  assert.is(connect.target, "svc:443");
});

test("Expect: 100-continue, in HTTP/1.1 only", () => {
  assert.ok(ok("PUT / HTTP/1.1\r\n" + H + "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\n").expectContinue);
  assert.not.ok(ok("PUT / HTTP/1.1\r\n" + H + "Expect: 100-continue-ish\r\n\r\n").expectContinue);
  assert.not.ok(ok("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expectContinue, "RFC 9110 §10.1.1: ignored for HTTP/1.0");
});

test("targets: origin, absolute, authority (CONNECT), asterisk (OPTIONS)", () => {
  assert.is(ok("GET http://svc.ns:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n").target, "http://svc.ns:8080/p?q");
  assert.is(ok("GET HTTPS://[::1]:8443 HTTP/1.1\r\nHost: other\r\n\r\n").target, "HTTPS://[::1]:8443");
  assert.is(ok("OPTIONS * HTTP/1.1\r\n" + H + "\r\n").target, "*");
  assert.is(ok("GET /a#b%zz\"<>{}|\\^` HTTP/1.1\r\n" + H + "\r\n").target, "/a#b%zz\"<>{}|\\^`", "what llhttp lets through; request-url.ts normalizes");
  for (const target of ["*", "*x", "svc", "svc:443", "a/b", "?", "http:x", "1http://x", "http://a|b/", "http://a b"]) {
    const result = read(`GET ${target} HTTP/1.1\r\n${H}\r\n`);
    assert.ok(!("method" in result) && result.status === 400, target);
  }
  for (const target of ["/x", "svc", "svc:", ":443", "svc:44x", "a@b:443", "a,b:443", "s{c:443", "http://svc:443"]) {
    refused(`CONNECT ${target} HTTP/1.1\r\n${H}\r\n`, 400, "http1.invalid_url");
  }
});

test("methods: any token as sent (Envoy's Balsa; llhttp knows a fixed list), not the HTTP/2 preface", () => {
  assert.is(ok("PURGE /x HTTP/1.1\r\n" + H + "\r\n").method, "PURGE");
  assert.is(ok("get /x HTTP/1.1\r\n" + H + "\r\n").method, "get", "methods are case-sensitive: this is not GET");
  refused("M-SEARCH * HTTP/1.1\r\n" + H + "\r\n", 400, "http1.invalid_url"); // "*" is for OPTIONS
  refused("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "http1.codec_error");
  refused("PRI / HTTP/1.1\r\n" + H + "\r\n", 400, "http1.codec_error");
  refused("G@T / HTTP/1.1\r\n" + H + "\r\n", 400, "http1.codec_error");
  refused(" GET / HTTP/1.1\r\n" + H + "\r\n", 400, "http1.codec_error");
});

test("request line: one space between parts, HTTP/1.0 or HTTP/1.1 only (400, as Envoy's codec)", () => {
  for (const line of ["GET  / HTTP/1.1", "GET /  HTTP/1.1", "GET / HTTP/1.1 ", "GET /", "GET / HTTP/2.0", "GET / HTTP/0.9", "GET / HTTP/1.2",
    "GET / http/1.1", "GET / HTTP/1.10", "GET / RTSP/1.0", "GET / HTTP/1", "GET HTTP/1.1", "GET\t/ HTTP/1.1", "GET / HTTP/1.1\r"]) {
    refused(`${line}\r\n${H}\r\n`, 400, "http1.codec_error");
  }
  refused("GET /a\tb HTTP/1.1\r\n" + H + "\r\n", 400, "http1.invalid_url");
  refused("GET /\xe9 HTTP/1.1\r\n" + H + "\r\n", 400, "http1.invalid_url");
  refused("GET /a\x7f HTTP/1.1\r\n" + H + "\r\n", 400, "http1.invalid_url");
});

test("header lines: token names, no space before the colon, no obs-fold, no bare CR or LF", () => {
  for (const line of ["Host : a", "Ho st: a", ": a", "nocolon", "X\xe9: a", "X\x00: a", "[x]: a", "X: a\r\n b", "X: a\r\n\tb", " X: a"]) {
    refused(`GET / HTTP/1.1\r\n${H}${line}\r\n\r\n`, 400, "http1.codec_error");
  }
  // bare line endings: refused as llhttp (strict) does, never taken as line ends
  refused("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400, "http1.codec_error");
  refused("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400, "http1.codec_error");
  refused("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "http1.codec_error");
  refused("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\r\n\r\n", 400, "http1.codec_error");
  // a head ended by bare LFs has no end yet: the reader waits (and refuses it at the size limit)
  assert.equal(read("GET / HTTP/1.1\nHost: a\n\n"), { status: 0, details: "incomplete" });
});

test("values: controls, NUL and DEL refused; HTAB, SP and obs-text kept byte for byte", () => {
  for (const value of ["a\x00b", "a\x01", "\x1fb", "a\x7fb", "a\x0bb"]) {
    refused(`GET / HTTP/1.1\r\n${H}X: ${value}\r\n\r\n`, 400, "http1.invalid_characters");
  }
  const raw = Array.from({ length: 128 }, (_, i) => String.fromCharCode(128 + i)).join("");
  const h = ok(`GET / HTTP/1.1\r\n${H}X-Bin: \t${raw} a\tb\xff\t \r\n\r\n`);
  assert.is(h.values[1], `${raw} a\tb\xff`);
  assert.equal(Array.from(h.values[1].slice(0, 128), (c) => c.charCodeAt(0)), Array.from({ length: 128 }, (_, i) => 128 + i));
});

test("Content-Length: digits only; identical repeats are one length; different ones are refused", () => {
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\n").contentLength, 5);
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\ncontent-length: 5\r\n\r\n").contentLength, 5, "duplicate identical Content-Length must not be 500");
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "Content-Length: 007\r\n\r\n").contentLength, 7);
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n").contentLength, 0);
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "\r\n").contentLength, -1);
  assert.is(ok("POST / HTTP/1.1\r\n" + H + "Content-Length: 9007199254740991\r\n\r\n").contentLength, Number.MAX_SAFE_INTEGER);
  for (const value of ["5, 6", "5\r\nContent-Length: 6", "", "+5", "-1", "0x10", "5 5", "1e3", "5,", ",5", "9007199254740992", "99999999999999999999"]) {
    refused(`POST / HTTP/1.1\r\n${H}Content-Length: ${value}\r\n\r\n`, 400, "http1.codec_error");
  }
  refused("CONNECT svc:443 HTTP/1.1\r\n" + H + "Content-Length: 1\r\n\r\n", 400, "http1.body_disallowed");
  assert.is(ok("CONNECT svc:443 HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n").contentLength, 0);
});

test("Transfer-Encoding: exactly chunked; other codings 501, malformed lists and CL with TE 400", () => {
  assert.ok(ok("POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: Chunked\r\n\r\n").chunked);
  for (const value of ["gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;x=1", "gzip\r\nTransfer-Encoding: chunked"]) {
    refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n`, 501, "http1.invalid_transfer_encoding");
  }
  for (const value of ["chunked, chunked", "chunked\r\nTransfer-Encoding: chunked", "", "chunked,", ",chunked", "chu nked", "ch\xe9"]) {
    refused(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: ${value}\r\n\r\n`, 400, "http1.invalid_transfer_encoding");
  }
  refused("POST / HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "http1.content_length_and_chunked_not_allowed");
  refused("POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400, "http1.content_length_and_chunked_not_allowed");
  refused("CONNECT svc:443 HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n", 501, "http1.invalid_transfer_encoding");
});

test("Host: one, without a comma, required in HTTP/1.1", () => {
  refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "http1.invalid_host");
  refused("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "http1.invalid_host");
  refused("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, "http1.invalid_host");
  refused("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400, "http1.missing_host");
  refused("GET http://a/ HTTP/1.1\r\n\r\n", 400, "http1.missing_host");
  assert.is(ok("GET / HTTP/1.0\r\n\r\n").host, undefined);
  assert.is(ok("GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "", "an empty Host is left to request-url.ts");
});

test("limits: 431 past 60 KiB of head or 100 headers; smaller limits are honoured", () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: v\r\n`).join("");
  assert.is(ok(`GET / HTTP/1.1\r\n${H}${lines(99)}\r\n`).names.length, 100);
  refused(`GET / HTTP/1.1\r\n${H}${lines(100)}\r\n`, 431, "http1.headers_too_large");
  const base = `GET / HTTP/1.1\r\n${H}X: \r\n\r\n`;
  const fits = base.replace("X: ", "X: " + "v".repeat(DEFAULT_HEAD_LIMITS.maxHeadBytes - base.length));
  assert.is(fits.length, DEFAULT_HEAD_LIMITS.maxHeadBytes);
  ok(fits);
  refused(fits.replace("X: ", "X: v"), 431, "http1.headers_too_large");
  // an incomplete head is refused as soon as it is too large, without waiting for its end
  const reader = new RequestHeadReader({ maxHeadBytes: 100, maxHeaders: 2 });
  const head = newRequestHead();
  assert.is(reader.read(bytes("GET / HTTP/1.1\r\nX: " + "a".repeat(60)), head), -1);
  assert.is(reader.error, null);
  assert.is(reader.read(bytes("a".repeat(40)), head), -1);
  assert.equal(reader.error, { status: 431, details: "http1.headers_too_large" });
  assert.equal(parseRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2", newRequestHead(), { maxHeadBytes: 100, maxHeaders: 2 }), { status: 431, details: "http1.headers_too_large" });
});

test("reader: one chunk is read in place; bytes after the head are left where data says", () => {
  const reader = new RequestHeadReader();
  const head = newRequestHead();
  const chunk = bytes("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
  const first = reader.read(chunk, head);
  assert.is(reader.data, chunk, "no copy");
  assert.is(head.target, "/1");
  assert.is(reader.pending, 0);
  const second = reader.read(chunk.subarray(first), head);
  assert.is(head.target, "/2");
  assert.is(String.fromCharCode(...reader.data.subarray(second)), "abc");
});

test("reader: any split gives the same head; pending counts what waits; reset forgets it", () => {
  const text = "\r\n\r\nPOST /p HTTP/1.1\r\nHost: a\r\nX: \xe9\xff\r\nContent-Length: 2\r\n\r\nhi";
  const all = bytes(text);
  const whole = newRequestHead();
  const at = new RequestHeadReader().read(all, whole);
  for (let size = 1; size <= 7; size++) {
    const reader = new RequestHeadReader();
    const head = newRequestHead();
    let result = -1;
    let offset = 0;
    for (; offset < all.length && result < 0; offset += size) {
      result = reader.read(all.slice(offset, offset + size), head);
      assert.is(reader.error, null);
      if (result < 0 && offset + size > 4) assert.is(reader.pending, offset + size - 4, "empty lines before the head are not kept");
    }
    assert.equal(head, whole, `pieces of ${size}`);
    const rest = String.fromCharCode(...reader.data.subarray(result)) + String.fromCharCode(...all.subarray(offset));
    assert.is(rest, "hi");
  }
  assert.is(String.fromCharCode(...all.subarray(at)), "hi");
  const reader = new RequestHeadReader();
  assert.is(reader.read(bytes("\r\n\r\n"), newRequestHead()), -1);
  assert.is(reader.pending, 0);
  reader.read(bytes("GET / HT"), newRequestHead());
  assert.is(reader.pending, 8);
  reader.reset();
  assert.is(reader.pending, 0);
  assert.is(reader.read(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), newRequestHead()), 27);
});

test("latin1: the native path and the loop agree on every byte", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const loop = latin1Loop(all, 0, 256);
  assert.is(latin1(all, 0, 256), loop);
  assert.equal(Array.from(loop, (c) => c.charCodeAt(0)), Array.from(all));
  assert.is(latin1(bytes("xGET /é"), 1, 7), "GET /é");
  const utf8 = new TextEncoder().encode("X: é"); // valid UTF-8 must still come out as latin1
  assert.is(latin1(utf8, 0, utf8.length), "X: \xc3\xa9");
});

// Inputs on which request-fuzz.test.ts once disagreed with llhttp, fixed since
test("fuzz regressions", () => {
  // JS trim() drops U+00A0 too: "\xa0close" is no close token and "\xa0Upgrade" no upgrade token
  assert.ok(ok("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection:\xa0close\r\n\r\n").keepAlive);
  assert.not.ok(ok("GET /chat HTTP/1.1\r\nConnection: keep-alive,\xa0Upgrade\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade);
  assert.not.ok(ok("GET / HTTP/1.0\r\nConnection:\xa0keep-alive\r\n\r\n").keepAlive);
  // leading zeros do not count towards the digit limit
  assert.is(ok("PATCH /x HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: " + "0".repeat(300) + "\r\n\r\n").contentLength, 0);
  // a scheme is letters only, an authority has no |"{}<>^`\\# (llhttp refuses them)
  refused("GET h6tp://svc.ns:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", 400, "http1.invalid_url");
  refused("GET ht00://x HTTP/1.1\r\nHost: other\r\n\r\n", 400, "http1.invalid_url");
  refused("GET http://#SVC.NS:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", 400, "http1.invalid_url");
  refused("GET http://sv>.ns:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", 400, "http1.invalid_url");
  refused("CONNECT s{c:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n", 400, "http1.invalid_url");
  // PRI is the HTTP/2 preface whatever follows it
  refused("PRI /chat HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.codec_error");
  // OWS is SP or HTAB: "chunked\t" is chunked (llhttp refuses it; deliberate, as Envoy)
  assert.ok(ok("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t\r\n\r\n").chunked);
  // an empty Transfer-Encoding is still one: with Content-Length it is refused
  refused("PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\nContent-Length: 10\r\n\r\n", 400, "http1.content_length_and_chunked_not_allowed");
  // empty lines before a head dropped in a chunk of their own
  const reader = new RequestHeadReader();
  const head = newRequestHead();
  assert.is(reader.read(bytes("\r\n\r\n"), head), -1);
  const request = "GET / HTTP/1.1\r\nhost: a\r\nCONTENT-LENGTH: 0\r\n\r\n";
  assert.is(reader.read(bytes(request), head), request.length);
  assert.equal(head.names, ["host", "content-length"]);
});

test.run();
