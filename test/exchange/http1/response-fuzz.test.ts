// Differential fuzz of the upstream client's HTTP/1.1 response parsing against llhttp (Node's
// parser in RESPONSE mode, strict — kLenientNone, no lenient flag — run as
// test/support/llhttp-response-oracle.mjs). Each input is the whole byte stream a server sends
// before it closes (interim 1xx heads, the final head, a body framed by length, chunks with
// extensions and trailers, or the close), mutated from a corpus. Both sides must agree on accepting
// or refusing the head and the body and, when both accept, on the final status, reason, version
// and header list, on whether the body is close-delimited, on the body bytes and on connection
// reuse — unless the difference is one named in DELIBERATE (dietmesh refuses what Envoy refuses,
// or reads a faulty framing the safe way). Each input is also fed in pieces (the corpus and
// REGRESSIONS byte by byte, mutations in random cuts) and must give the same answer as in one piece.
//
// Mutations: a byte flipped, inserted or deleted; header lines duplicated, swapped or added
// (framing, connection); case changes; long runs; another version, status or reason phrase; chunk
// size lines rewritten — on the first head or on the final one after interim heads.
//
// dietmesh's side runs the modules the client uses (HeadReader, frame, ChunkedDecoder) with the
// client's glue from runtime/upstream/http1/connection.ts restated in `ours` below: header fields
// go through HeaderList.append, a final status must be 200..599, an invalid reason is dropped.
//
// Seeded: DIETMESH_FUZZ_SEED replays a run; DIETMESH_FUZZ_SECONDS runs longer than the default
// (a bounded number of cases in CI), DIETMESH_FUZZ_FAILURES lists more than ten disagreements,
// DIETMESH_FUZZ_SHOW prints longer inputs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { HeadReader } from "../../../runtime/exchange/http1/response-head-reader.ts";
import { ResponseHead } from "../../../runtime/exchange/http1/response-head.ts";
import { CHUNKED, frame, LENGTH, NO_BODY, UNTIL_CLOSE, type Framing } from "../../../runtime/exchange/http1/response-framing.ts";
import { CHUNKED_DONE, ChunkedDecoder } from "../../../runtime/exchange/http1/chunked.ts";
import { HeaderList } from "../../../runtime/exchange/header-list.ts";
import { seededRandom } from "../../resilience/seeded-random.ts";

const seconds = Number(process.env.DIETMESH_FUZZ_SECONDS ?? 3);
const maxCases = process.env.DIETMESH_FUZZ_SECONDS ? Infinity : 5000;
const seed = Number(process.env.DIETMESH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const maxFailures = Number(process.env.DIETMESH_FUZZ_FAILURES ?? 10);

/** the request's method: HEAD skips the body; the others only name the exchange */
type Method = "GET" | "HEAD" | "POST" | "PUT" | "DELETE";

/** [request method, what the server sends before it closes, as latin1 text] */
const CORPUS: [Method, string][] = [
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"],
  ["GET", "HTTP/1.1 200 OK\r\nServer: envoy\r\nDate: Sat, 05 Dec 2026 00:00:00 GMT\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1;q=\"a b\"\r\n world\r\n0\r\n\r\n"],
  ["POST", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\nA\r\n0123456789\r\n0\r\nX-Sum: 45\r\nX-Other: y\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"x;y\";b\r\nabc\r\n2 ; c = d\r\nde\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nuntil the close"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"],
  ["GET", "HTTP/1.1 200 OK\r\n\r\nbody until the server closes"],
  ["GET", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited"],
  ["GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nabcd"],
  ["GET", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the server closes"],
  ["GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["DELETE", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"],
  ["GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: \"x\"\r\n\r\n"],
  ["GET", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nTransfer-Encoding: chunked\r\n\r\n"],
  ["GET", "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n"],
  ["HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"],
  ["HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"],
  ["PUT", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok"],
  ["POST", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 102 Processing\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 404 \r\nContent-Length: 2\r\n\r\nno"],
  ["GET", "HTTP/1.1 404 Not Found: \xe9t\xe9 \t ok\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 503 Service \xe9 Unavailable  \r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 599 Whatever\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"],
  ["GET", "HTTP/1.1 999 Odd\r\nContent-Length: 1\r\n\r\nx"],
  ["GET", "HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"],
  ["GET", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Tab:\tv\t\r\nX-Empty:\r\nX-Bin: \xe9t\xe9 \x80\xff\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n00\r\n\r\n"],
  ["GET", "HTTP/1.1 502 Bad Gateway\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
];

/**
 * Inputs a run once found disagreeing (then fixed, or the difference named), and the decided
 * cases: checked unmutated, whole and byte by byte, at the start of every run.
 */
const REGRESSIONS: [Method, string][] = [
  // control characters and bare CR/LF in fields, interim heads included
  ["GET", "HTTP/1.1 103 Early Hints\r\nLink: </s.c\x15s>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"],
  ["GET", "HTTP/1.1 200\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.0 200 OK\r\nServer: \rold\r\n\r\nuntil the server closes"],
  ["HEAD", "HTTP/1.0 200 OK\raaaa\r\n\r\n"],
  ["DELETE", "HTTP/1.1 204 No Content\rVContent-Length: 5\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 102 Processingc\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 102 Proc\xbdssing\r\nC-ont\xfent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 102 Processing\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nServer: envoy\r\r\n\r\n\nDate: Sat, 05 Dec 2026 00:00:00 GMT\r\nContent-Length: 2\r\n\r\nok"],
  ["PUT", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\rContent-L:ength: 3, 3\r\n\r\nabc"],
  // control characters in the reason phrase: dropped
  ["GET", "HTTP/1.1 200 a\x01b\r\nContent-Length: 5\r\n\r\nhello"],
  ["HEAD", "HTTP/1.1 200 \x7f\r\nContent-Length: 1234\r\n\r\n"],
  // Transfer-Encoding other than one chunked
  ["DELETE", "HTTP/1.1 204 NO Content\r\nContent-Length: 5\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nuntil close"],
  ["GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["HEAD", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 4\r\nTransfer-Encoding: identity\r\n\r\nabcd"],
  ["HEAD", "HTTP/1.1 200 OK\r\nTrasfer-Encoding: chunked\r\n\r\n"],
  // versions
  ["GET", "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"],
  ["GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/0.9 201 Created\r\nContent-Length: 2\r\n\r\nok"],
  ["GET", "HTTP/2.0 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"],
  ["GET", "RTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "\r\nHTTP/1.0 200 OK\r\n\r\nold style"],
  // statuses
  ["GET", "HTTP/1.1 099 Reason\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.0 205\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 205 Reset Content\r\nContent-Length: 2\r\n\r\nno"],
  // lengths
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 000000000000000000000000000003\r\n\r\nabc"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"],
  ["GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 999999999999999999\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\nConnection: close\r\n\r\nclose-delimited"],
  // chunk sizes: leading zeros are one size ("chunk size too large" before the fix), BWS
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + "0".repeat(40) + "5\r\nhello\r\n" + "0".repeat(20) + "\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n6;ext=1;q=\"x\"\r\n world\r\n0\r\n\r\n"],
  // decided: Content-Length beside chunked in HTTP/1.1 is refused (Envoy and llhttp), for HEAD too;
  // in an interim head it is ignored with the rest of its framing
  ["GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 102 Processing\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
  // decided: an empty chunk-extension name is taken, as Envoy does (extensions are dropped unread,
  // the size and the line end have one reading); llhttp strict takes "5;=x" and "5;;a" too, and
  // refuses only a ";" that ends the line ("A;")
  ["POST", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA;\r\n0123456789\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a;;b\r\nhello\r\n0\r\n\r\n"],
  // OWS, interim framing, connection tokens
  ["GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\t\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
  ["GET", "HTTP/1.1 103 Early Hints\r\nConnection: close\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"],
  ["GET", "HTTP/1.0 502 Bad Gateway\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive, close\r\n\r\n"],
  ["GET", "HTTP/1.1 200 OK\r\nProxy-Connection: close\r\nContent-Length: 2\r\n\r\nok"],
  // an interim head then a lone CRLF: one chunk found a head end borrowing the interim's last CRLF
  // ("malformed status line"), two chunks did not ("closed before a complete head")
  ["GET", "HTTP/1.1 102 Processing\r\nContent-Length: 3\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
  ["GET", "HTTP/1.1 199 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n\r\n"],
  ["GET", "HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"],
];

const LINES = [
  "Content-Length: 5", "Content-Length: 0", "Content-Length: 5, 5", "Content-Length: 5,6", "Content-Length: -1",
  "Content-Length: +3", "Content-Length: 1e3", "Content-Length: 0x5", "Content-Length: 99999999999999999999",
  "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: chunked, chunked",
  "Transfer-Encoding: identity", "transfer-encoding: CHUNKED", "Transfer-Encoding:",
  "Connection: close", "Connection: keep-alive", "Connection: upgrade", "Upgrade: h2c", "Upgrade: websocket",
  "X: y", "X : y", " X: y", "X\t: y", ":x", "X-Under_score: 1", "Set-Cookie: c=3", "Proxy-Connection: close", "Keep-Alive: timeout=5",
];

const INSERTS = ["\r", "\n", " ", "\t", "\x00", "\x80", "\x7f", ":", ",", ";", "=", "\"", "\r\n", "\r\n\r\n", "\x01", "\xff", "0", "a", "f", "-"];

const VERSIONS = ["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "http/1.1", "HTTP/1.10", "RTSP/1.0", "ICE/1.0", "HTTP/1", "HTTP/ 1.1", "ICY"];
const STATUSES = ["200", "204", "304", "100", "101", "103", "199", "205", "099", "999", "600", "2000", "1000", "20", "20x", " 200", "404"];
const REASONS = ["", " ", " OK", "  OK", " \t", " a\x01b", " \x7f", " caf\xe9", " OK\r", " O\nK", " OK ", "\tOK", " Reason"];
const CHUNK_SIZES = [
  "0", "00", "1", "5", "05", "A", "g", "5 ", "5\t", " 5", "5x", "-5", "-1", "+5", "0x5", "fffffffffffffff", "ffffffffffffffffff",
  "5;", "5;=x", "5; ;a", "5;a;;b", "5 ;a", "5;a=b", "5;a=\"x\"", "5;a=\"x;y\"", "5;a=\"x\\\"y\"", "5;a=\"x", "5;a=\x01", "5;\x01", "5;a\x7f",
];

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function mutate(text: string, rand: () => number): string {
  const at = () => Math.floor(rand() * (text.length + 1));
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const steps = Math.floor(rand() * 4); // sometimes none: the corpus as it is
  for (let s = 0; s < steps; s++) {
    // the head to work on: the first one, or the final one after any interim heads
    let headStart = 0;
    if (rand() < 0.5) {
      const last = text.search(/\r\n\r\n(?![\s\S]*HTTP\/)/);
      const start = last < 0 ? -1 : text.lastIndexOf("HTTP/", last);
      if (start > 0) headStart = start;
    }
    const end = text.indexOf("\r\n\r\n", headStart);
    const headEnd = end < 0 ? text.length : end;
    const before = text.slice(0, headStart);
    const lines = text.slice(headStart, headEnd).split("\r\n");
    const rest = text.slice(headEnd);
    const rebuild = () => before + lines.join("\r\n") + rest;
    const sp = lines[0].indexOf(" ");
    switch (Math.floor(rand() * 12)) {
      case 0: { // flip a byte
        const i = Math.floor(rand() * text.length);
        text = text.slice(0, i) + String.fromCharCode(Math.floor(rand() * 256)) + text.slice(i + 1);
        break;
      }
      case 1: { // insert a nasty byte
        const i = at();
        text = text.slice(0, i) + pick(INSERTS) + text.slice(i);
        break;
      }
      case 2: { // delete a few bytes
        const i = at();
        text = text.slice(0, i) + text.slice(i + 1 + Math.floor(rand() * 3));
        break;
      }
      case 3: { // duplicate a header line
        if (lines.length < 2) break;
        const i = 1 + Math.floor(rand() * (lines.length - 1));
        lines.splice(i, 0, lines[i]);
        text = rebuild();
        break;
      }
      case 4: { // swap two header lines
        if (lines.length < 3) break;
        const i = 1 + Math.floor(rand() * (lines.length - 1));
        const j = 1 + Math.floor(rand() * (lines.length - 1));
        [lines[i], lines[j]] = [lines[j], lines[i]];
        text = rebuild();
        break;
      }
      case 5: { // add a framing or connection line
        lines.splice(1 + Math.floor(rand() * lines.length), 0, pick(LINES));
        text = rebuild();
        break;
      }
      case 6: { // change case of a stretch
        const i = at();
        const j = Math.min(text.length, i + 1 + Math.floor(rand() * 12));
        const stretch = text.slice(i, j);
        text = text.slice(0, i) + (rand() < 0.5 ? stretch.toLowerCase() : stretch.toUpperCase()) + text.slice(j);
        break;
      }
      case 7: { // a long run of one character (huge heads, huge chunk sizes)
        const i = at();
        text = text.slice(0, i) + pick(["a", " ", "0", "f", "\t", "x: y\r\n"]).repeat(1 + Math.floor(rand() * 3000)) + text.slice(i);
        break;
      }
      case 8: { // another version
        lines[0] = pick(VERSIONS) + (sp < 0 ? " 200" : lines[0].slice(sp));
        text = rebuild();
        break;
      }
      case 9: { // another status, with the reason kept or a new one
        const line = lines[0];
        const prefix = sp < 0 ? line + " " : line.slice(0, sp + 1);
        lines[0] = prefix + pick(STATUSES) + (rand() < 0.5 ? line.slice(Math.min(line.length, sp + 4)) : pick(REASONS));
        text = rebuild();
        break;
      }
      case 10: { // another reason phrase
        const line = lines[0];
        const second = line.indexOf(" ", sp + 1);
        lines[0] = (second < 0 ? line : line.slice(0, second)) + pick(REASONS);
        text = rebuild();
        break;
      }
      default: { // rewrite a chunk-size line: the first after the head, or any later one
        const bodyStart = end < 0 ? text.length : end + 2;
        const sizes = [...text.slice(bodyStart).matchAll(/\r\n([0-9a-fA-F]+)(?:[ \t;][^\r\n]*)?\r\n/g)];
        if (sizes.length === 0) break;
        const m = rand() < 0.5 ? sizes[0] : pick(sizes);
        const i = bodyStart + m.index! + 2;
        text = text.slice(0, i) + pick(CHUNK_SIZES) + text.slice(i + m[0].length - 4);
      }
    }
  }
  return text;
}

interface Answer {
  id: number;
  ok: boolean;
  head: boolean;
  status?: number;
  reason?: string;
  major?: number;
  minor?: number;
  headers?: [string, string][];
  keepAlive?: boolean;
  upgrade?: boolean;
  body?: string;
  untilClose?: boolean;
  error?: string;
  errorAfter?: string | null;
}

/** one node process running llhttp for the whole test */
class Oracle {
  private child = spawn("node", [new URL("../../support/llhttp-response-oracle.mjs", import.meta.url).pathname], { stdio: ["pipe", "pipe", "inherit"] });
  private waiting = new Map<number, (answer: Answer) => void>();
  private next = 0;

  constructor() {
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const answer = JSON.parse(line) as Answer;
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }

  ask(inputs: { bytes: Uint8Array; method: Method }[]): Promise<Answer[]> {
    let lines = "";
    const answers = inputs.map(({ bytes, method }) => {
      const id = this.next++;
      lines += JSON.stringify({ id, method, b64: btoa(text(bytes)) }) + "\n";
      return new Promise<Answer>((resolve) => this.waiting.set(id, resolve));
    });
    this.child.stdin!.write(lines);
    return Promise.all(answers);
  }

  close(): void {
    this.child.stdin!.end();
  }
}

interface Ours {
  /** why the head was refused, or "" */
  headError: string;
  /** why the body failed, or "" */
  bodyError: string;
  status: number;
  reason: string;
  minor: number;
  headers: string[];
  mode: number;
  /** what frame() said, before any bytes after the response */
  keepAlive: boolean;
  /** bytes came after the response's end */
  extra: boolean;
  body: string;
}

/** RFC 9112 §4 reason-phrase; the client drops one that is not (newResponse in connection.ts) */
function validReason(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

const decoder = new ChunkedDecoder();

/** dietmesh's answer for input read in the given pieces (each a copy, as socket reads are), then the close */
function ours(input: Uint8Array, method: Method, cuts: number[]): Ours {
  const reader = new HeadReader();
  const head = new ResponseHead();
  const framing: Framing = { mode: NO_BODY, remaining: 0, keepAlive: true };
  const out: Ours = { headError: "", bodyError: "", status: 0, reason: "", minor: 0, headers: [], mode: -1, keepAlive: false, extra: false, body: "" };
  const body: string[] = [];
  const sink = { onBodyBytes: (bytes: Uint8Array) => body.push(text(bytes)) };
  let inHead = true;
  let done = false;
  let from = 0;
  const readBody = (data: Uint8Array, start: number) => {
    const end = data.byteLength;
    if (done || framing.mode === NO_BODY) {
      if (start < end) out.extra = true;
      return;
    }
    if (framing.mode === LENGTH) {
      const n = Math.min(end - start, framing.remaining);
      sink.onBodyBytes(data.subarray(start, start + n));
      framing.remaining -= n;
      if (start + n < end) out.extra = true;
      if (framing.remaining === 0) done = true;
    } else if (framing.mode === CHUNKED) {
      const used = decoder.decode(data, start, end, sink);
      if (used < 0) throw new Error(`chunked: ${decoder.error}`);
      if (decoder.state === CHUNKED_DONE) {
        done = true;
        if (used < end) out.extra = true;
      }
    } else sink.onBodyBytes(data.subarray(start, end));
  };
  try {
    for (const cut of [...cuts, input.length]) {
      const chunk = input.slice(from, cut);
      from = cut;
      if (!inHead) {
        readBody(chunk, 0);
        continue;
      }
      const start = reader.read(chunk, head);
      if (start < 0) {
        if (reader.error) return { ...out, headError: reader.error };
        continue;
      }
      inHead = false;
      // the client's checks when it builds the Response (connection.ts deliver/newResponse)
      if (head.status < 200 || head.status > 599) return { ...out, headError: `status ${head.status}` };
      const list = new HeaderList();
      try {
        for (let i = 0; i < head.count; i++) list.append(head.names[i], head.values[i]);
      } catch (error) {
        return { ...out, headError: (error as Error).message };
      }
      out.status = head.status;
      out.reason = validReason(head.statusText) ? head.statusText : "";
      out.minor = head.minor;
      out.headers = head.names.slice(0, head.count).map((n, i) => `${n}: ${head.values[i]}`);
      frame(head, method === "HEAD", framing);
      out.mode = framing.mode;
      out.keepAlive = framing.keepAlive;
      if (framing.mode === CHUNKED) decoder.reset();
      if (framing.mode === NO_BODY) done = true;
      readBody(reader.data, start);
    }
  } catch (error) {
    out.bodyError = (error as Error).message;
  }
  if (inHead) return { ...out, headError: "closed before a complete head" };
  out.body = body.join("");
  if (!out.bodyError && !done && framing.mode !== UNTIL_CLOSE) out.bodyError = "closed mid-body";
  return out;
}

function randomCuts(length: number, rand: () => number): number[] {
  if (length < 2) return [];
  if (rand() < 0.15 && length < 4000) return byteByByte(length);
  const cuts = new Set<number>();
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(rand() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

const byteByByte = (length: number) => Array.from({ length: Math.max(0, length - 1) }, (_, k) => k + 1);

/** the status lines of the input: at its start and after each empty line */
function statusLines(input: string): string[] {
  return input.split("\r\n\r\n").map((part) => part.slice(0, part.indexOf("\r\n") < 0 ? part.length : part.indexOf("\r\n")));
}

function fields(mine: Ours, name: string): string[] {
  return mine.headers.filter((h) => h.slice(0, h.indexOf(":")).toLowerCase() === name).map((h) => h.slice(h.indexOf(":") + 2));
}

const hasField = (mine: Ours, name: string) => fields(mine, name).length > 0;

/**
 * Deliberate differences: dietmesh follows Envoy and RFC 9112 where llhttp is laxer or stricter.
 * Each returns its name when it explains the disagreement `why` about input between our answer and
 * llhttp's; the names are those of runtime/exchange/http1/README.md.
 */
type Explain = (input: string, mine: Ours, answer: Answer, why: string) => string | null;
const DELIBERATE: Explain[] = [
  // Transfer-Encoding in HTTP/1.1 must be one "chunked", as Envoy requires (it refuses other
  // codings and repeats); llhttp decodes "gzip, chunked" and reads "chunked, gzip" until close
  (_i, mine, answer) => (answer.head && mine.headError.endsWith("unsupported transfer encoding") ? "transfer-coding" : null),
  // the same length repeated ("3, 3" or two lines, leading zeros aside) is one length (RFC 9112
  // §6.3; Envoy takes it too); llhttp refuses any repeat, in an interim head too
  (input, mine, answer) => {
    if (mine.headError || !/CONTENT_LENGTH$/.test(answer.error ?? "")) return null;
    for (const head of input.split("\r\n\r\n")) {
      const lengths = [...head.matchAll(/\r\ncontent-length:([^\r]*)/gi)].flatMap((m) => m[1].split(",").map((v) => v.trim().replace(/^0+(?=\d)/, "")));
      if (lengths.length > 1 && lengths.every((v) => v === lengths[0])) return "content-length-repeat";
    }
    return null;
  },
  // only HTTP/1.0 and HTTP/1.1 status lines (llhttp also takes 0.9, 2.0, 1.2, RTSP/ICE)
  (input, mine, answer) => (answer.head && mine.headError.endsWith("malformed status line") && (answer.major !== 1 || answer.minor! > 1 || statusLines(input).some((l) => /^[A-Za-z]+\/\d/.test(l) && !/^HTTP\/1\.[01] /.test(l))) ? "version" : null),
  // empty lines (or a lone CR) before a status line: RFC 9112 §2.2 asks a server to skip them
  // before a request, nothing of a client; a reused connection sending bytes before the status
  // line is out of step. Refused; llhttp skips them
  (input, mine, answer) => (answer.head && mine.headError.endsWith("malformed status line") && /^[\r\n]|\r\n\r\n[\r\n]/.test(input) ? "leading-empty-lines" : null),
  // a status a Response cannot carry: below 100 (llhttp reads "099" as 99) or above 599; 0xx in an
  // interim head is no status either (llhttp skips it as a 1xx)
  (_i, mine, answer) => (answer.head && /^status \d+$|malformed status code$/.test(mine.headError) && (answer.status! < 100 || answer.status! > 599) ? "status-range" : null),
  (input, mine, answer) => (answer.head && mine.headError.endsWith("malformed status code") && statusLines(input).some((l) => / 0\d\d/.test(l.slice(8, 12))) ? "status-range" : null),
  // a 101 to a request that did not ask to switch protocols (llhttp hands any 101 on as an upgrade)
  (_i, mine, answer) => (answer.status === 101 && mine.headError === "unexpected 101 from upstream" ? "unexpected-101" : null),
  // Envoy's limits (100 headers, 60 KiB); the oracle's are higher
  (_i, mine, answer) => (answer.head && /too many headers|too large/.test(mine.headError) ? "limits" : null),
  // a reason phrase with control characters is dropped, never forwarded (Envoy always writes its own)
  (_i, mine, answer, why) => (why.startsWith("reason") && mine.reason === "" && !validReason(answer.reason ?? "") ? "reason-dropped" : null),
  // a bare CR in the status line is refused (RFC 9112 §2.2 allows that or reading it as SP); llhttp
  // takes "OK\r\r" as a line end
  (input, mine, answer) => (answer.head && mine.headError !== "" && /^[^\n]*\r(?!\n)/.test(input) ? "bare-cr" : null),
  // 205 has no content (RFC 9110 §15.3.6): no body is read and a framed one closes the connection
  (_i, mine, answer) => (mine.status === 205 && answer.status === 205 && !mine.headError ? "205-no-content" : null),
  // Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 §6.1): read until close, not reused
  // (test/upstream/http1/http10-framing.test.ts), beside a Content-Length too; llhttp decodes it
  // as chunked or refuses another coding
  (_i, mine) => (!mine.headError && mine.minor === 0 && hasField(mine, "transfer-encoding") ? "http10-transfer-encoding" : null),
  // close wins over keep-alive in any version (llhttp lets keep-alive win in HTTP/1.0)
  (_i, mine, _a, why) => (!mine.headError && why.startsWith("keepAlive") && /\bclose\b/i.test(fields(mine, "connection").join(",")) && /keep-alive/i.test(fields(mine, "connection").join(",")) ? "connection-tokens" : null),
  // Proxy-Connection is not Connection (RFC 9112 Appendix C.2.2); llhttp honours its close
  (input, mine, _a, why) => (!mine.headError && why.startsWith("keepAlive") && /(^|\n)proxy-connection:/i.test(input) ? "proxy-connection" : null),
  // OWS may be HTAB (RFC 9110 §5.6.3): "chunked<HTAB>" is chunked, "5<HTAB>" a length and
  // "keep-alive<HTAB>" keep-alive (llhttp reads such a body until close, or refuses)
  (input, mine, answer) => (/(^|\n)(transfer-encoding|content-length|connection):[^\r\n]*\t/i.test(input) && (answer.ok || !mine.headError) ? "ows-tab" : null),
  // an interim (1xx) response has no content and does not end the connection (RFC 9110 §15.2): it
  // is skipped whatever its framing and Connection fields say; llhttp checks its framing (two
  // Content-Lengths, Content-Length beside chunked) and then wants the close it announced
  (input, mine, answer) => (!mine.headError && /^HPE_(CLOSED_CONNECTION|INVALID_TRANSFER_ENCODING|INVALID_CONTENT_LENGTH|UNEXPECTED_CONTENT_LENGTH)$/.test(answer.error ?? "") && /^HTTP\/1\.[01] 1\d\d/.test(input) ? "interim-framing" : null),
  // a Content-Length above 2^53 - 1 cannot be counted exactly in a number (llhttp: up to 2^64 - 1)
  (input, mine, answer) => (answer.head && mine.headError.endsWith("invalid content-length") && /(^|\n)content-length:[ \t]*0*[1-9]\d{15}/i.test(input) ? "content-length-huge" : null),
  // whitespace after a chunk size is BWS before an extension or the line end, one reading only
  // (RFC 9112 §7.1.1; Envoy allows it); llhttp refuses it
  (input, mine, answer) => (!mine.headError && !mine.bodyError && answer.error === "HPE_INVALID_CHUNK_SIZE" && /\r\n[0-9a-fA-F]+[ \t]/.test(input) ? "chunk-size-bws" : null),
  // chunk extensions are dropped unread and, as in Envoy, only checked for control characters
  // (they cannot hide a line end): llhttp strict also refuses BWS around ";" and "=", a value
  // that is neither token nor quoted-string, and an empty name at the line's end ("5;", "5;a;")
  (input, mine, answer) => (!mine.headError && !mine.bodyError && answer.error === "HPE_STRICT" && /\r\n[0-9a-fA-F]+[ \t]*;/.test(input) ? "chunk-ext" : null),
];

function describe(input: string): string {
  const limit = Number(process.env.DIETMESH_FUZZ_SHOW ?? 300);
  return JSON.stringify(input.length > limit ? input.slice(0, limit) + "…" : input);
}

/** why ours and the oracle's answers differ, or null when they agree */
function disagreement(method: Method, mine: Ours, answer: Answer): string | null {
  if (mine.headError || !answer.head) {
    if (mine.headError && !answer.head) return null;
    if (mine.headError) return `we refuse the head (${mine.headError}), llhttp accepts${answer.ok ? "" : ` it (body: ${answer.error})`}`;
    return `we accept the head, llhttp refuses (${answer.error})`;
  }
  if (mine.status !== answer.status) return `status ${mine.status} vs ${answer.status}`;
  if (answer.major !== 1 || mine.minor !== answer.minor) return `version 1.${mine.minor} vs ${answer.major}.${answer.minor}`;
  if (mine.reason !== answer.reason) return `reason ${JSON.stringify(mine.reason)} vs ${JSON.stringify(answer.reason)}`;
  const theirs = (answer.headers ?? []).map(([n, v]) => `${n}: ${v}`);
  if (JSON.stringify(theirs) !== JSON.stringify(mine.headers)) return `headers ${JSON.stringify(mine.headers)} vs ${JSON.stringify(theirs)}`;
  if (!!mine.bodyError !== !answer.ok) return mine.bodyError ? `we refuse the body (${mine.bodyError}), llhttp accepts` : `we accept the body, llhttp refuses (${answer.error})`;
  if (mine.bodyError) return null;
  if ((mine.mode === UNTIL_CLOSE) !== answer.untilClose) return `untilClose ${mine.mode === UNTIL_CLOSE} vs ${answer.untilClose}`;
  const theirBody = atob(answer.body ?? "");
  if (mine.body !== theirBody) return `body ${describe(mine.body)} vs ${describe(theirBody)}`;
  // llhttp decides reuse before a HEAD answer's body is skipped: only the framing above counts then
  if (method !== "HEAD" && mine.keepAlive !== answer.keepAlive) return `keepAlive ${mine.keepAlive} vs ${answer.keepAlive}`;
  return null;
}

interface Tally {
  failures: string[];
  named: Map<string, number>;
  cases: number;
  accepted: number;
}

/** runs the inputs through both, whole and in the given pieces, and tallies what they say */
async function compare(oracle: Oracle, inputs: { bytes: Uint8Array; method: Method }[], cutsOf: (length: number) => number[], tally: Tally): Promise<void> {
  const answers = await oracle.ask(inputs);
  for (let i = 0; i < inputs.length; i++) {
    const { bytes, method } = inputs[i];
    const whole = ours(bytes, method, []);
    const pieces = ours(bytes, method, cutsOf(bytes.length));
    const source = text(bytes);
    if (JSON.stringify(pieces) !== JSON.stringify(whole)) tally.failures.push(`pieces differ from one chunk (${JSON.stringify(pieces).slice(0, 200)} vs ${JSON.stringify(whole).slice(0, 200)}): ${method} ${describe(source)}`);
    if (!whole.headError && !whole.bodyError) tally.accepted++;
    const why = disagreement(method, whole, answers[i]);
    if (!why) continue;
    const name = DELIBERATE.map((explain) => explain(source, whole, answers[i], why)).find((n) => n);
    if (name) tally.named.set(name, (tally.named.get(name) ?? 0) + 1);
    else tally.failures.push(`${why}: ${method} ${describe(source)}`);
  }
  tally.cases += inputs.length;
}

const newTally = (): Tally => ({ failures: [], named: new Map(), cases: 0, accepted: 0 });
const asInputs = (list: [Method, string][]) => list.map(([method, source]) => ({ bytes: latin1Bytes(source), method }));

test("the corpus and every regression case agree with llhttp, whole and byte by byte, or differ deliberately", async () => {
  const oracle = new Oracle();
  const tally = newTally();
  try {
    await compare(oracle, asInputs([...CORPUS, ...REGRESSIONS]), byteByByte, tally);
  } finally {
    oracle.close();
  }
  for (const failure of tally.failures) console.log(`response-fuzz: ${failure.slice(0, 600)}`);
  assert.equal(tally.failures, []);
  assert.ok(tally.accepted >= 25, `most of the corpus is accepted (${tally.accepted})`);
});

test("decided: Content-Length beside chunked (HTTP/1.1) is refused; an empty chunk-extension name is taken, as Envoy does", () => {
  const run = (method: Method, source: string) => ours(latin1Bytes(source), method, []);
  const both = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  assert.is(run("GET", both).headError, "invalid upstream response: both content-length and transfer-encoding");
  assert.is(run("HEAD", both).headError, "invalid upstream response: both content-length and transfer-encoding");
  // HTTP/1.0: Transfer-Encoding is faulty framing whatever else is there, read until close
  const old = run("GET", both.replace("HTTP/1.1", "HTTP/1.0"));
  assert.is(old.headError, "");
  assert.is(old.mode, UNTIL_CLOSE);
  assert.is(old.keepAlive, false);
  // in an interim head it is ignored with the rest of the interim's framing
  assert.is(run("GET", "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz").body, "xyz");
  const chunked = (size: string) => run("GET", `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`);
  for (const size of ["5;a=\x01", "5;\x7f", "5;a\x00b"]) assert.is(chunked(size).bodyError, "chunked: invalid chunk extension", size);
  for (const size of ["5;", "5;=x", "5; ;a", "5;a;;b", "5;=", "5;a", "5;a=b", "5 ; a = b", "5;a=\"x;y\";b", "5;a;b=c"]) {
    const answer = chunked(size);
    assert.is(answer.bodyError, "", size);
    assert.is(answer.body, "hello", size);
  }
});

test(`differential fuzz against llhttp (seed ${seed})`, async () => {
  console.log(`response-fuzz: seed ${seed} (DIETMESH_FUZZ_SEED=${seed} replays), ${seconds} s, at most ${maxCases} cases`);
  const rand = seededRandom(seed);
  const oracle = new Oracle();
  const tally = newTally();
  const started = Date.now();
  try {
    while (Date.now() - started < seconds * 1000 && tally.cases < maxCases && tally.failures.length < maxFailures) {
      const inputs: { bytes: Uint8Array; method: Method }[] = [];
      while (inputs.length < 250) {
        const [method, source] = CORPUS[Math.floor(rand() * CORPUS.length)];
        const m: Method = rand() < 0.07 ? (method === "HEAD" ? "GET" : "HEAD") : method;
        inputs.push({ bytes: latin1Bytes(mutate(source, rand)), method: m });
      }
      await compare(oracle, inputs, (length) => randomCuts(length, rand), tally);
    }
  } finally {
    oracle.close();
  }
  console.log(`response-fuzz: ${tally.cases} cases, ${tally.accepted} accepted, deliberate differences: ${JSON.stringify(Object.fromEntries(tally.named))}`);
  for (const failure of tally.failures) console.log(`response-fuzz: ${failure.slice(0, 600)}`);
  assert.ok(tally.cases >= 250, "ran at least one batch");
  assert.equal(tally.failures, []);
});

test.run();
