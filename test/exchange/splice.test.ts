// splice(): two byte channels joined both ways, on in-memory channels and a fake clock — bytes
// buffered before attach come first, backpressure pauses the fast side until the slow one drains,
// an end is passed on as an end and an error as a destroy, idle time closes both, stop() ends both.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { splice } from "../../runtime/exchange/splice.ts";
import type { ByteChannel, ByteSink } from "../../runtime/exchange/types.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

/** a channel whose peer the test plays: `arrive` is bytes from the far end, `written` what we sent */
class MemoryChannel implements ByteChannel {
  sink: ByteSink | null = null;
  written: string[] = [];
  paused = false;
  ended = false;
  destroyed = false;
  /** write() reports a full queue once this many writes are queued */
  full = Infinity;
  constructor(readonly before: Uint8Array[] = []) {}
  attach(sink: ByteSink): void {
    this.sink = sink;
    for (const bytes of this.before) sink.onData(bytes);
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(new TextDecoder().decode(bytes));
    return this.written.length < this.full;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  arrive(text: string): void {
    this.sink!.onData(new TextEncoder().encode(text));
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

test("bytes read before attach go first, then both directions flow; the byte counts say how much", async () => {
  const clock = createFakeClock();
  const a = new MemoryChannel([bytes("early")]);
  const b = new MemoryChannel();
  const s = splice(a, b, { clock, idleTimeoutMs: 0 });
  a.arrive("hello");
  b.arrive("world!");
  assert.equal(b.written, ["early", "hello"]);
  assert.equal(a.written, ["world!"]);
  a.sink!.onClose(null);
  assert.ok(b.ended, "a's end is passed on as an end (FIN after what is queued), not a reset");
  assert.not.ok(b.destroyed);
  assert.not.ok(a.ended, "a is still open for b's answer (half-close)");
  b.sink!.onClose(null);
  assert.ok(a.ended, "b's end reaches a too, though a's own side had ended first");
  assert.equal(await s.done, { aToB: 10, bToA: 6, reason: "closed" });
});

test("backpressure: a full b pauses a until b drains", () => {
  const clock = createFakeClock();
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  b.full = 2;
  splice(a, b, { clock, idleTimeoutMs: 0 });
  a.arrive("1");
  assert.not.ok(a.paused);
  a.arrive("2");
  assert.ok(a.paused, "b said wait: a stops reading");
  b.sink!.onDrain();
  assert.not.ok(a.paused, "b drained: a reads again");
});

test("an error on one side destroys the other", async () => {
  const clock = createFakeClock();
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  const s = splice(a, b, { clock, idleTimeoutMs: 0 });
  b.sink!.onClose(new Error("reset by peer"));
  assert.ok(a.destroyed);
  assert.not.ok(a.ended);
  assert.is((await s.done).reason, "error");
});

test("an error after the other side's FIN still destroys that side (it was open for writing)", async () => {
  const clock = createFakeClock();
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  const s = splice(a, b, { clock, idleTimeoutMs: 0 });
  b.sink!.onClose(null); // b sent its FIN: a is ended, b still writable
  assert.ok(a.ended);
  a.sink!.onClose(new Error("reset by peer"));
  assert.ok(b.destroyed);
  assert.is((await s.done).reason, "error");
});

test("idle timeout: quiet for the whole period closes both; traffic within a period keeps it open", async () => {
  const clock = createFakeClock();
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  const s = splice(a, b, { clock, idleTimeoutMs: 1000 });
  clock.advance(600);
  a.arrive("still here");
  clock.advance(600);
  assert.not.ok(a.destroyed, "a byte 600 ms ago: not idle");
  clock.advance(1000);
  assert.ok(a.destroyed && b.destroyed, "a whole period without a byte");
  assert.is((await s.done).reason, "idle");
  assert.is(clock.pending(), 0, "no timer left behind");
});

test("stop() ends both sides (a draining listener), and settles once both have closed", async () => {
  const clock = createFakeClock();
  const a = new MemoryChannel();
  const b = new MemoryChannel();
  const s = splice(a, b, { clock, idleTimeoutMs: 5000 });
  s.stop();
  assert.ok(a.ended && b.ended);
  let settled = false;
  void s.done.then(() => (settled = true));
  a.sink!.onClose(null);
  await Promise.resolve();
  assert.not.ok(settled, "b has not closed yet");
  b.sink!.onClose(null);
  assert.is((await s.done).reason, "stopped");
  assert.is(clock.pending(), 0);
});

test.run();
