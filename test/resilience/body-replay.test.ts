// Request bodies kept for retries: streaming on the first attempt, exact replays, the size limit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bufferForReplay, DEFAULT_REPLAY_LIMIT_BYTES } from "../../runtime/resilience/body-replay.ts";

const bytes = (...xs: number[]) => new Uint8Array(xs);

/** a source the test feeds by hand, to see what flows before the body is complete */
function manualSource() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled: unknown = "not cancelled";
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  return { stream, push: (c: Uint8Array) => ctl.enqueue(c), end: () => ctl.close(), fail: (e: Error) => ctl.error(e), cancelled: () => cancelled };
}
function sourceOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
}
async function readAll(s: ReadableStream<Uint8Array> | null): Promise<number[]> {
  const out: number[] = [];
  for (const r = s!.getReader(); ; ) {
    const { done, value } = await r.read();
    if (done) return out;
    out.push(...value);
  }
}

test("the first attempt streams before the body is complete", async () => {
  const src = manualSource();
  const body = bufferForReplay(src.stream);
  const reader = body.stream()!.getReader();
  src.push(bytes(1, 2, 3));
  assert.equal((await reader.read()).value, bytes(1, 2, 3)); // the source has not ended yet
  src.push(bytes(4));
  assert.equal((await reader.read()).value, bytes(4));
  src.end();
  assert.ok((await reader.read()).done);
  assert.ok(body.replayable());
});

test("replays are byte-for-byte identical, as often as needed", async () => {
  const body = bufferForReplay(sourceOf(bytes(1, 2), bytes(3), bytes(), bytes(4, 5, 6)));
  const first = await readAll(body.stream());
  assert.equal(first, [1, 2, 3, 4, 5, 6]);
  assert.equal(await readAll(body.stream()), first);
  assert.equal(await readAll(body.stream()), first);
});

test("a retry after a half-sent body sends all of it", async () => {
  const src = manualSource();
  const body = bufferForReplay(src.stream);
  const first = body.stream()!;
  const r = first.getReader();
  src.push(bytes(1, 2));
  await r.read();
  await r.cancel("upstream reset"); // the attempt is abandoned mid-body
  assert.is(src.cancelled(), "not cancelled", "a retry still needs the rest");
  const replay = readAll(body.stream());
  src.push(bytes(3));
  src.end();
  assert.equal(await replay, [1, 2, 3]);
});

test("a retry before the first attempt read anything reads the source itself", async () => {
  const body = bufferForReplay(sourceOf(bytes(9, 8)));
  body.stream(); // e.g. the connect failed before the body was touched
  assert.equal(await readAll(body.stream()), [9, 8]);
});

test("past the limit: still streamed in full, but no longer replayable", async () => {
  const body = bufferForReplay(sourceOf(bytes(1, 2, 3, 4, 5, 6), bytes(7, 8, 9, 10, 11, 12)), 10);
  assert.equal(await readAll(body.stream()), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.not.ok(body.replayable());
  assert.throws(() => body.stream(), /not replayable/);
});

test("exactly the limit is still replayable", async () => {
  const body = bufferForReplay(sourceOf(bytes(1, 2, 3, 4, 5), bytes(6, 7, 8, 9, 10)), 10);
  await readAll(body.stream());
  assert.ok(body.replayable());
  assert.equal(await readAll(body.stream()), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("an abandoned attempt past the limit releases the source", async () => {
  const src = manualSource();
  const body = bufferForReplay(src.stream, 2);
  const r = body.stream()!.getReader();
  src.push(bytes(1, 2, 3));
  await r.read();
  await r.cancel("gave up");
  assert.is(src.cancelled(), "gave up");
});

test("a failing client body fails the attempt and can't be replayed", async () => {
  const src = manualSource();
  const body = bufferForReplay(src.stream);
  const r = body.stream()!.getReader();
  src.push(bytes(1));
  await r.read();
  src.fail(new Error("client went away"));
  await r.read().then(() => assert.unreachable("should fail"), (e: Error) => assert.match(e.message, /client went away/));
  assert.not.ok(body.replayable());
});

test("no body: nothing to stream, always replayable; default limit 64 KiB", () => {
  const body = bufferForReplay(null);
  assert.is(body.stream(), null);
  assert.is(body.stream(), null);
  assert.ok(body.replayable());
  assert.is(DEFAULT_REPLAY_LIMIT_BYTES, 65536);
});

test("a large body over the default limit streams through unchanged", async () => {
  const chunk = new Uint8Array(16 * 1024).map((_, i) => i & 0xff);
  const body = bufferForReplay(sourceOf(chunk, chunk, chunk, chunk, chunk));
  const all = await readAll(body.stream());
  assert.is(all.length, 80 * 1024);
  assert.is(all[16 * 1024 + 5], 5);
  assert.not.ok(body.replayable());
});

test.run();
