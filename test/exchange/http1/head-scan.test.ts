// The head parsers' two scans: where a head ends (a skip scan for CRLFCRLF) against the plain
// search it replaced, on random bytes made mostly of CR, LF and one letter so that near-misses
// ("\r\n\r", "\n\r\n", "\r\r\n\n") are everywhere; and the shared common field names, which must
// match exactly what they name and nothing else. A seeded run; DIETMESH_FUZZ_SEED replays one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { headEnd } from "../../../runtime/exchange/http1/head-scan.ts";
import { commonNameIn, WRITTEN, writtenName } from "../../../runtime/exchange/http1/field-names.ts";
import { seededRandom } from "../../resilience/seeded-random.ts";

const seed = Number(process.env.DIETMESH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** the search the skip scan replaced: every position, in order */
function plainHeadEnd(bytes: Uint8Array, lastFrom: number, end: number): number {
  for (let i = Math.max(3, lastFrom); i < end; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}

test(`headEnd finds the first CRLFCRLF exactly as a byte-by-byte search does (seed ${seed})`, () => {
  const random = seededRandom(seed);
  const alphabet = [13, 10, 97, 13, 10];
  let found = 0;
  for (let round = 0; round < 20_000; round++) {
    const bytes = new Uint8Array(1 + Math.floor(random() * 40));
    for (let i = 0; i < bytes.length; i++) bytes[i] = alphabet[Math.floor(random() * alphabet.length)];
    const lastFrom = Math.floor(random() * 8);
    const end = bytes.length - Math.floor(random() * 3);
    const want = plainHeadEnd(bytes, lastFrom, end);
    assert.is(headEnd(bytes, lastFrom, end), want, `${JSON.stringify(String.fromCharCode(...bytes))} from ${lastFrom} to ${end}`);
    if (want > 0) found++;
  }
  assert.ok(found > 1000, `the cases must include found heads (${found})`);
});

test("a head's end in a real request, and none before the blank line", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\nX-A: \r\n\r\nbody\r\n\r\n";
  const bytes = new TextEncoder().encode(text);
  assert.is(headEnd(bytes, 3, bytes.length), text.indexOf("\r\n\r\n") + 4);
  assert.is(headEnd(bytes, 3, text.indexOf("\r\n\r\n") + 3), -1);
});

test("common names: any letter case for the request parser, only letters folded", () => {
  const at = (text: string) => commonNameIn(Uint8Array.from(text, (c) => c.charCodeAt(0)), 2, text.length - 2);
  assert.is(at("..Content-Length.."), "content-length");
  assert.is(at("..content-length.."), "content-length");
  assert.is(at("..X-B3-TRACEID.."), "x-b3-traceid");
  assert.is(at("..content\rlength.."), undefined); // CR is "-" with 0x20 set: not a letter, not folded
  assert.is(at("..content_length.."), undefined);
  assert.is(at("..x-custom.."), undefined);
  assert.is(at("..host.."), "host");
  assert.is(at("..hosts.."), undefined);
});

test("common names as written: lowercase or capitalised exactly, for the response parser", () => {
  const at = (text: string) => {
    const k = writtenName(text, 0, text.length);
    return k < 0 ? undefined : WRITTEN[k];
  };
  assert.is(at("Content-Length"), "Content-Length");
  assert.is(at("content-length"), "content-length");
  assert.is(at("CONTENT-LENGTH"), undefined); // kept as it came, by a slice
  assert.is(at("Content-length"), undefined);
  assert.is(at("Date"), "Date");
  assert.is(at("X-Request-Id"), "X-Request-Id");
});

test.run();
