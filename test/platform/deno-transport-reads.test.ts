// Deno's transport hands out what it read as views of a per-connection slab, not one copy per read
// (issue 10): small reads share one ArrayBuffer, a view handed out is never written again (the
// next read goes after it, or into a new slab once less than MIN_READ is left), and a slab's reads
// are handed out whole. Driven by a fake Deno.Conn, so it runs on both runtimes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DenoTransport, MIN_READ } from "../../runtime/platform/http1/deno-transport.ts";

/** a conn whose reads are answered from `pieces`, one per read, then end of stream */
function fakeConn(pieces: Uint8Array[]) {
  const targets: Uint8Array[] = [];
  return {
    targets,
    read(buffer: Uint8Array): Promise<number | null> {
      targets.push(buffer);
      const piece = pieces.shift();
      if (!piece) return Promise.resolve(null);
      // as a socket: at most what the buffer holds, the rest on the next read
      const n = Math.min(piece.byteLength, buffer.byteLength);
      buffer.set(piece.subarray(0, n));
      if (n < piece.byteLength) pieces.unshift(piece.subarray(n));
      return Promise.resolve(n);
    },
    write: (data: Uint8Array) => Promise.resolve(data.byteLength),
    closeWrite: () => Promise.resolve(),
    close() {},
    setNoDelay() {},
    ref() {},
    unref() {},
  };
}

function reads(pieces: Uint8Array[]): Promise<{ chunks: Uint8Array[]; targets: Uint8Array[] }> {
  const chunks: Uint8Array[] = [];
  const conn = fakeConn(pieces);
  return new Promise((resolve) => {
    const transport = new DenoTransport({
      onOpen() {},
      onData: (chunk) => chunks.push(chunk),
      onDrain() {},
      onClose: () => resolve({ chunks, targets: conn.targets }),
    });
    transport.opened(conn);
  });
}

const filled = (n: number, byte: number) => new Uint8Array(n).fill(byte);

test("small reads are views of one slab, each keeps its bytes after later reads", async () => {
  const pieces = Array.from({ length: 20 }, (_, i) => filled(100 + i, i + 1));
  const { chunks } = await reads(pieces.map((p) => p.slice()));
  assert.is(chunks.length, 20);
  for (let i = 0; i < 20; i++) {
    assert.is(chunks[i].byteLength, 100 + i);
    assert.ok(chunks[i].every((b) => b === i + 1), `read ${i} intact`);
  }
  // no copy per read: all twenty share the first slab
  assert.ok(chunks.every((c) => c.buffer === chunks[0].buffer), "one ArrayBuffer for the small reads");
  assert.is(chunks[1].byteOffset, chunks[0].byteOffset + 100);
});

test("a new slab once less than MIN_READ is left; no read is ever given bytes already handed out", async () => {
  const big = 16 * 1024 - MIN_READ + 1; // leaves MIN_READ - 1: the next read needs a new slab
  const { chunks, targets } = await reads([filled(big, 7), filled(10, 8), filled(5, 9)]);
  assert.is(chunks.length, 3);
  assert.not.ok(chunks[1].buffer === chunks[0].buffer, "a new slab after the big read");
  assert.ok(chunks[2].buffer === chunks[1].buffer, "the new slab takes the next small read too");
  assert.ok(chunks[0].every((b) => b === 7) && chunks[1].every((b) => b === 8) && chunks[2].every((b) => b === 9));
  // each read's target starts after every byte handed out of its slab
  for (let i = 1; i < targets.length; i++) {
    for (const chunk of chunks.slice(0, i)) {
      if (chunk.buffer !== targets[i].buffer) continue;
      assert.ok(targets[i].byteOffset >= chunk.byteOffset + chunk.byteLength, `read ${i} does not overlap an earlier chunk`);
    }
  }
});

test.run();
