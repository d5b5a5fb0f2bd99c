// The gRPC-Web codec on its own: base64 decoded across chunk boundaries of any size (a partial quad
// carried to the next chunk), padding mid-stream, bad input refused; frames base64-encoded one whole
// frame at a time however the body is cut; the trailer frame's exact bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Base64Decoder, Base64Error, base64Encode, FrameEncoder, trailerFrame } from "../../runtime/filters/grpc-web-codec.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};

test("base64Encode matches btoa for every tail length", () => {
  for (const s of ["", "a", "ab", "abc", "abcd", "\u0000\u00ff\u0080x"]) {
    const raw = Uint8Array.from(s, (c) => c.charCodeAt(0));
    assert.is(text(base64Encode(raw)), btoa(s), JSON.stringify(s));
  }
});

test("the decoder carries partial quads across chunks of every size", () => {
  const plain = "\u0000\u0000\u0000\u0000\u000b{\"text\":\"x\"} and more bytes \u00ff";
  const encoded = bytes(btoa(plain));
  for (let size = 1; size <= 7; size++) {
    const decoder = new Base64Decoder();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < encoded.length; i += size) parts.push(decoder.push(encoded.subarray(i, i + size)));
    decoder.end();
    assert.equal(Array.from(concat(parts)), Array.from(plain, (c) => c.charCodeAt(0)), `chunks of ${size}`);
  }
});

test("padding may end a quad mid-stream (messages encoded one by one)", () => {
  const decoder = new Base64Decoder();
  const out = decoder.push(bytes(btoa("a") + btoa("bc") + btoa("def")));
  decoder.end();
  assert.is(text(out), "abcdef");
});

test("bad characters and a length not a multiple of 4 are errors", () => {
  assert.throws(() => new Base64Decoder().push(bytes("ab!d")), (e: unknown) => e instanceof Base64Error);
  assert.throws(() => new Base64Decoder().push(bytes("a=bc")), (e: unknown) => e instanceof Base64Error);
  const decoder = new Base64Decoder();
  decoder.push(bytes("YWJj" + "YW"));
  assert.throws(() => decoder.end(), (e: unknown) => e instanceof Base64Error);
});

test("frames go out base64-encoded one whole frame at a time, however the body is cut", () => {
  const one = Uint8Array.of(0, 0, 0, 0, 2, 104, 105);
  const two = Uint8Array.of(0, 0, 0, 0, 0);
  const body = concat([one, two]);
  for (let size = 1; size <= body.length; size++) {
    const encoder = new FrameEncoder();
    const pieces: string[] = [];
    for (let i = 0; i < body.length; i += size) pieces.push(...encoder.push(body.subarray(i, i + size)).map(text));
    assert.equal(pieces, [text(base64Encode(one)), text(base64Encode(two))], `chunks of ${size}`);
  }
});

test("the trailer frame: 0x80, the big-endian length, name:value lines", () => {
  const frame = trailerFrame(new Headers({ "grpc-status": "0", "grpc-message": "ok" }));
  const block = "grpc-message:ok\r\ngrpc-status:0\r\n";
  assert.equal(Array.from(frame.subarray(0, 5)), [0x80, 0, 0, 0, block.length]);
  assert.is(text(frame.subarray(5)), block);
});

test.run();
