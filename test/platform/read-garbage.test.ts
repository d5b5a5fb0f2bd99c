// The read-garbage collector on a fake RSS and clock: when it collects, and how often it may; and the
// runtime's own collection it calls, for real.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CHECK_BYTES, GROWTH, LARGE_READ, MIN_GAP_MS, SHARE, readGarbage, runtimeCollector } from "../../runtime/platform/read-garbage.ts";

const MB = 1024 * 1024;

function harness(collectMs = 0, minRead?: number) {
  const state = { rss: 60 * MB, now: 1000, collections: 0, rssReads: 0 };
  const note = readGarbage({
    minRead,
    rss: () => (state.rssReads++, state.rss),
    now: () => state.now,
    collect: () => {
      state.collections++;
      state.now += collectMs;
      state.rss -= 2 * GROWTH; // the garbage goes
    },
  });
  return { state, note };
}

test("reads the RSS once per CHECK_BYTES, not per read", () => {
  const { state, note } = harness();
  for (let i = 0; i < CHECK_BYTES / 1024 - 1; i++) note(1024);
  assert.is(state.rssReads, 0);
  note(1024);
  assert.is(state.rssReads, 1);
});

test("with minRead (production: LARGE_READ), small reads neither read the RSS nor collect; large ones do", () => {
  const { state, note } = harness(0, LARGE_READ);
  // small-request load: its RSS drifts up, its reads are heads and short bodies
  for (let i = 0; i < (4 * CHECK_BYTES) / 512; i++) {
    note(512);
    if (i % 1000 === 0) state.rss += MB;
  }
  assert.is(state.rssReads, 0);
  assert.is(state.collections, 0);
  // a streamed body: large reads count as before
  note(CHECK_BYTES); // floor
  state.rss += GROWTH;
  for (let read = 0; read < CHECK_BYTES; read += LARGE_READ) note(LARGE_READ);
  assert.is(state.rssReads, 2);
  assert.is(state.collections, 1);
});

test("collects once the RSS is GROWTH above its floor, not before", () => {
  const { state, note } = harness();
  note(CHECK_BYTES); // floor 60 MB
  state.rss += GROWTH - 1;
  note(CHECK_BYTES);
  assert.is(state.collections, 0);
  state.rss += 1;
  note(CHECK_BYTES);
  assert.is(state.collections, 1);
});

test("a flat RSS under traffic never collects; a plateau after growth collects once, then rebases", () => {
  const { state, note } = harness();
  for (let i = 0; i < 100; i++) note(CHECK_BYTES);
  assert.is(state.collections, 0);
  state.rss += 40 * MB; // load grows the heap for good: the collection frees only the garbage
  note(CHECK_BYTES);
  assert.is(state.collections, 1);
  for (let i = 0; i < 100; i++) {
    state.now += 1000;
    note(CHECK_BYTES); // rebased on the RSS after the collection: no storm
  }
  assert.is(state.collections, 1);
});

test("waits MIN_GAP_MS, or SHARE times the last collection's duration, before the next", () => {
  const { state, note } = harness(50); // a 50 ms collection: the next after 50 * SHARE ms
  const gap = Math.max(MIN_GAP_MS, 50 * SHARE);
  note(CHECK_BYTES);
  state.rss += GROWTH;
  note(CHECK_BYTES);
  assert.is(state.collections, 1);
  note(CHECK_BYTES); // the new floor
  state.rss += 10 * GROWTH;
  state.now += gap - 1;
  note(CHECK_BYTES);
  assert.is(state.collections, 1);
  state.now += 1;
  note(CHECK_BYTES);
  assert.is(state.collections, 2);
});

test("the runtime's collection frees a young object nothing holds (Bun.gc; V8's minor gc, loaded on first use)", async () => {
  const collect = runtimeCollector();
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ young: new Array(100).fill(1) });
  })();
  // a WeakRef's target is kept until the current job ends
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
  assert.is(ref!.deref(), undefined);
});

test.run();
