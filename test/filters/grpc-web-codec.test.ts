// The gRPC-Web codec on its own: base64 decoded across chunk boundaries of any size (a partial quad
// carried to the next chunk), padding mid-stream, bad input refused; frames base64-encoded one whole
// frame at a time however the body is cut; the trailer frame's exact bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Base64Body, Base64Decoder, Base64Error, base64Encode, FrameEncoder, trailerFrame } from "../../runtime/filters/grpc-web-codec.ts";

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

const badData = (e: unknown) => e instanceof Base64Error && e.details === "grpc_base_64_decode_failed";
const badSize = (e: unknown) => e instanceof Base64Error && e.details === "grpc_base_64_decode_failed_bad_size";

test("bad characters and a length not a multiple of 4 are errors, with Envoy's details for each", () => {
  assert.throws(() => new Base64Decoder().push(bytes("ab!d")), badData);
  assert.throws(() => new Base64Decoder().push(bytes("a=bc")), badData);
  const decoder = new Base64Decoder();
  decoder.push(bytes("YWJj" + "YW"));
  assert.throws(() => decoder.end(), badSize);
});

/** a body stream of these chunks */
const streamOf = (...chunks: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(bytes(chunk));
      controller.close();
    },
  });

/** reads a stream to its end; the error it ended with, if any */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ out: Uint8Array[]; error: unknown }> {
  const out: Uint8Array[] = [];
  try {
    for await (const chunk of stream) out.push(chunk);
    return { out, error: undefined };
  } catch (error) {
    return { out, error };
  }
}

test("a base64 body decodes as it streams and keeps the error that ended it", async () => {
  const good = new Base64Body(streamOf("YW", "Jj", "ZA=="));
  const read = await drain(good.stream);
  assert.is(read.error, undefined);
  assert.is(text(concat(read.out)), "abcd");
  assert.is(good.error, undefined);

  const bad = new Base64Body(streamOf("YWJj", "Y!Jj"));
  const failed = await drain(bad.stream);
  assert.ok(badData(failed.error), String(failed.error));
  assert.is(text(concat(failed.out)), "abc", "what came before the bad quad was passed on");
  assert.ok(badData(bad.error));

  const short = new Base64Body(streamOf("YWJjZ"));
  assert.ok(badSize((await drain(short.stream)).error));
  assert.ok(badSize(short.error));
});

test("bad base64 leaves the client's body uncancelled (an HTTP/2 one would be reset before the 400); a reader's cancel reaches it", async () => {
  let cancelled = 0;
  const source = () =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(bytes("Y!Jj"));
      },
      cancel() {
        cancelled++;
      },
    });
  const bad = new Base64Body(source());
  assert.ok(badData((await drain(bad.stream)).error));
  // a pipe cancels its source in promise jobs after its destination errors: one turn of the event
  // loop runs them all, so a cancel would have happened by then (no timing involved)
  await new Promise((next) => setImmediate(next));
  assert.is(cancelled, 0);
  const good = new Base64Body(source());
  await good.stream.cancel("done");
  assert.is(cancelled, 1);
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
