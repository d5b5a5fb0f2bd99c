// The read-buffer rules (runtime/platform/read-buffers.ts): which reads are handed on in their
// buffer, and which written arrays give their buffer back. What goes wrong if a rule breaks is a
// buffer read into while something still holds its bytes: test/e2e/stream-integrity.test.ts
// checks that end to end on the transports that lend (Deno's).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, connect, type Server } from "node:net";
import { createHash } from "node:crypto";
import { platform } from "../../runtime/platform/index.ts";
import { defaultConnect } from "../../runtime/upstream/http1/index.ts";
import type { Transport } from "../../runtime/platform/http1/transport.ts";
import { arraysFreed, buffersReused, delivered, handedOn, isLent, keep, LEND_AT, lendReads, MAX_FREE, READ_SIZE, readBuffer, written } from "../../runtime/platform/read-buffers.ts";

test.after.each(() => lendReads(false));

function read(n: number): { buffer: Uint8Array; chunk: Uint8Array } {
  const buffer = readBuffer();
  buffer.fill(7, 0, n);
  return { buffer, chunk: delivered(buffer, n) };
}

test("off (the library's default): every read is copied out, nothing is lent or reused", () => {
  const { buffer, chunk } = read(READ_SIZE);
  assert.is.not(chunk.buffer, buffer.buffer);
  assert.is(chunk.byteLength, READ_SIZE);
  assert.not.ok(isLent(chunk));
  const before = buffersReused();
  written(chunk);
  readBuffer();
  assert.is(buffersReused(), before);
});

test("on: a small read is copied (its buffer stays with the transport), a large one is handed on in its buffer", () => {
  lendReads(true);
  const small = read(LEND_AT - 1);
  assert.is.not(small.chunk.buffer, small.buffer.buffer);
  assert.not.ok(isLent(small.chunk));
  const large = read(LEND_AT);
  assert.is(large.chunk.buffer, large.buffer.buffer);
  assert.is(large.chunk.byteLength, LEND_AT);
  assert.ok(isLent(large.chunk));
});

test("a lent array, once written, gives its buffer to the next read; the same array twice gives it once", () => {
  lendReads(true);
  const { chunk } = read(READ_SIZE);
  const before = buffersReused();
  written(chunk);
  written(chunk);
  const next = readBuffer();
  assert.is(next.buffer, chunk.buffer);
  assert.is(buffersReused(), before + 1);
  assert.is.not(readBuffer().buffer, chunk.buffer);
});

test("a part of a lent array, a kept array and a copy never give a buffer back", () => {
  lendReads(true);
  const part = read(READ_SIZE);
  written(part.chunk.subarray(0, 100)); // a parser's view: another object
  const kept = read(READ_SIZE);
  keep(kept.chunk); // the replay buffer holds it
  written(kept.chunk);
  const copied = read(READ_SIZE);
  written(copied.chunk.slice());
  const fresh = readBuffer();
  for (const r of [part, kept, copied]) assert.is.not(fresh.buffer, r.chunk.buffer);
  // the untouched lent arrays are still lent; the kept one is not
  assert.ok(isLent(part.chunk));
  assert.not.ok(isLent(kept.chunk));
});

test("an array the runtime made for a read is lent when large and alone in its buffer; once written, its memory is freed at once", () => {
  const standalone = new Uint8Array(64 * 1024).fill(1);
  assert.not.ok(isLent(handedOn(standalone)), "lending is off");
  lendReads(true);
  assert.ok(isLent(handedOn(standalone)));
  const small = new Uint8Array(LEND_AT - 1);
  assert.not.ok(isLent(handedOn(small)));
  const view = new Uint8Array(new ArrayBuffer(64 * 1024), 16, 32 * 1024); // a part of a pool the runtime keeps: never ours to free
  assert.not.ok(isLent(handedOn(view)));
  const before = arraysFreed();
  written(standalone);
  assert.is(arraysFreed(), before + 1);
  assert.is(standalone.byteLength, 0, "the written array's buffer is detached: its memory is gone");
  assert.is(view.buffer.byteLength, 64 * 1024);
  written(view);
  assert.is(arraysFreed(), before + 1);
  assert.is(view.byteLength, 32 * 1024);
});

test("a kept array the runtime made is never freed", () => {
  lendReads(true);
  const chunk = handedOn(new Uint8Array(32 * 1024).fill(9));
  keep(chunk);
  written(chunk);
  assert.is(chunk.byteLength, 32 * 1024);
  assert.is(chunk[100], 9);
});

test("at most MAX_FREE buffers wait for reads; turning lending off drops them", () => {
  lendReads(true);
  const chunks = Array.from({ length: MAX_FREE + 5 }, () => read(READ_SIZE).chunk);
  for (const c of chunks) written(c);
  const before = buffersReused();
  const taken = Array.from({ length: MAX_FREE + 5 }, () => readBuffer());
  assert.is(buffersReused() - before, MAX_FREE);
  const returned = new Set(chunks.map((c) => c.buffer));
  assert.is(taken.filter((b) => returned.has(b.buffer as ArrayBuffer)).length, MAX_FREE);
  written(read(READ_SIZE).chunk);
  lendReads(false);
  const after = buffersReused();
  readBuffer();
  assert.is(buffersReused(), after);
});

test("a relay between the runtime's own transports: bytes arrive as sent, and the memory of what it wrote comes back at once", async () => {
  lendReads(true);
  const total = 8 * 1024 * 1024 + 4321;
  const sent = new Uint8Array(total);
  for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >>> 11)) & 0xff;
  // the sink hashes what reaches it
  let sinkDone!: (hash: string) => void;
  const sinkHash = new Promise<string>((resolve) => (sinkDone = resolve));
  // every socket the test opens is closed by the test: the relay's transports close without
  // callbacks on stop(true), and an open socket left behind keeps the runtime's event loop alive
  const sinkSockets: Array<{ destroy(): void }> = [];
  const outbounds: Transport[] = [];
  const sink: Server = createServer((socket) => {
    sinkSockets.push(socket);
    const hash = createHash("sha256");
    let got = 0;
    socket.on("data", (data: Uint8Array) => {
      hash.update(data);
      got += data.byteLength;
      if (got === total) sinkDone(hash.digest("hex"));
    });
  });
  const sinkPort = await new Promise<number>((resolve) => sink.listen(0, "127.0.0.1", () => resolve((sink.address() as { port: number }).port)));
  // the relay: what the listener's transport reads is written to the client transport, with backpressure
  const relay = platform.serveSockets({
    hostname: "127.0.0.1",
    port: 0,
    onConnection(inbound: Transport) {
      // a transport takes writes once open: what arrives before is held here, as the proxy's pending transport does
      let early: Uint8Array[] | null = [];
      const forward = (chunk: Uint8Array) => {
        if (!outbound.write(chunk)) inbound.pause();
      };
      const outbound = defaultConnect("127.0.0.1", sinkPort, {
        onOpen() {
          const held = early!;
          early = null;
          for (const chunk of held) forward(chunk);
        },
        onData() {},
        onDrain: () => inbound.resume(),
        onClose() {},
      });
      outbounds.push(outbound);
      return {
        onOpen() {},
        onData: (chunk) => (early ? early.push(chunk) : forward(chunk)),
        onDrain() {},
        onClose: () => outbound.end(),
      };
    },
  });
  const before = { reused: buffersReused(), freed: arraysFreed() };
  const client = connect(relay.port, "127.0.0.1", () => client.end(sent));
  client.on("error", () => {});
  const hash = await sinkHash;
  assert.is(hash, createHash("sha256").update(sent).digest("hex"), "the sink got other bytes than were sent");
  // Deno's transport reads into buffers of its own and reuses them; Bun's sockets hand out arrays
  // of their own, which are freed instead
  if ("Deno" in globalThis) assert.ok(buffersReused() > before.reused, "the relay never read into a buffer it had written out");
  else {
    assert.is(buffersReused(), before.reused);
    assert.ok(arraysFreed() > before.freed, "the relay freed none of the arrays it wrote out");
  }
  client.destroy();
  await relay.stop(true);
  for (const outbound of outbounds) outbound.destroy();
  for (const socket of sinkSockets) socket.destroy();
  sink.close();
});

test.run();
