// The settle rule's quick path on a fake clock: a change the caller recognises as complete (files
// replaced whole by a rename) is applied at the first read after a short quiet time; a write in
// place still waits for two equal reads a settle time apart, so a pause mid-file is never applied.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock, sleep } from "../../runtime/lib/clock.ts";
import { settleChanges } from "../../runtime/discovery/settle.ts";
import { DEFAULT_QUICK_MS, DEFAULT_SETTLE_MS } from "../../runtime/discovery/config-watch.ts";

const GATEWAY = "kind: Gateway\n";
const ROUTE = "kind: VirtualService\n";

/** a file with an identity: a rename gives a new one, a write in place keeps it */
function file(initial: string) {
  const clock = createFakeClock();
  let state = { text: initial, id: 1 };
  let loadedFrom = state.id;
  let nextId = 2;
  const applied: string[] = [];
  const candidates: string[] = [];
  const settle = settleChanges({
    settleMs: DEFAULT_SETTLE_MS,
    quickMs: DEFAULT_QUICK_MS,
    clock,
    read: async () => state,
    same: (a, b) => a.text === b.text && a.id === b.id,
    complete: (now) => now.id !== loadedFrom,
    apply: (s) => {
      loadedFrom = s.id;
      applied.push(s.text);
    },
    candidate: (s) => candidates.push(s.text),
  });
  return {
    clock,
    applied,
    candidates,
    /** mv tmp file: the whole new text at once, under a new identity */
    rename(text: string) {
      state = { text, id: nextId++ };
      settle.changed();
    },
    /** a write into the file as it is */
    write(text: string) {
      state = { ...state, text };
      settle.changed();
    },
  };
}

test("a file replaced by a rename is applied after the quick quiet time, one read, and no earlier", async () => {
  const f = file("one");
  f.rename("two");
  await f.clock.advanceAsync(DEFAULT_QUICK_MS - 1);
  assert.equal(f.applied, []);
  await f.clock.advanceAsync(1);
  assert.equal(f.applied, ["two"]);
  assert.equal(f.candidates, [], "a complete change needs no candidate");
  assert.is(f.clock.pending(), 0);
});

test("a burst of renames closer together than the quick time is applied once, the last", async () => {
  const f = file("one");
  for (const text of ["a", "b", "c"]) {
    f.rename(text);
    await f.clock.advanceAsync(DEFAULT_QUICK_MS - 10);
  }
  assert.equal(f.applied, []);
  await f.clock.advanceAsync(10);
  assert.equal(f.applied, ["c"]);
});

test("a file written in place in two pieces 300 ms apart is never applied half-way (the quick read does not count)", async () => {
  const f = file(`${ROUTE}---\n${GATEWAY}`);
  f.write(ROUTE);
  await f.clock.advanceAsync(300);
  assert.equal(f.applied, [], "the first piece alone was applied");
  f.write(`${ROUTE}---\n${GATEWAY}-x`);
  await f.clock.advanceAsync(2 * DEFAULT_SETTLE_MS - 1);
  assert.equal(f.applied, [], "applied before it was stable for two reads a settle time apart");
  await f.clock.advanceAsync(1);
  assert.equal(f.applied, [`${ROUTE}---\n${GATEWAY}-x`]);
  assert.is(f.clock.pending(), 0);
});

test("a write in place right after a rename is settled: the rename alone does not carry it", async () => {
  const f = file("one");
  f.rename("two");
  await f.clock.advanceAsync(DEFAULT_QUICK_MS);
  assert.equal(f.applied, ["two"]);
  f.write("two, piece");
  await f.clock.advanceAsync(DEFAULT_SETTLE_MS);
  assert.equal(f.applied, ["two"], "the in-place piece went in at the quick time");
  await f.clock.advanceAsync(DEFAULT_SETTLE_MS);
  assert.equal(f.applied, ["two", "two, piece"]);
});

test("a rename during an in-place write's settle time is applied at its own quick time", async () => {
  const f = file("one");
  f.write("piece");
  await f.clock.advanceAsync(DEFAULT_SETTLE_MS);
  assert.equal(f.candidates, ["piece"]);
  f.rename("whole");
  await f.clock.advanceAsync(DEFAULT_QUICK_MS);
  assert.equal(f.applied, ["whole"]);
  await f.clock.advanceAsync(10 * DEFAULT_SETTLE_MS);
  assert.equal(f.applied, ["whole"], "the candidate read before the rename was applied too");
});

test("a slow quick read is part of an in-place write's wait, not added to it; the counted reads start a settle time apart", async () => {
  const clock = createFakeClock();
  let text = "one";
  const reads: number[] = [];
  const applied: [string, number][] = [];
  const settle = settleChanges({
    settleMs: DEFAULT_SETTLE_MS,
    quickMs: DEFAULT_QUICK_MS,
    clock,
    read: async () => {
      reads.push(clock.now());
      const seen = text;
      await sleep(clock, 100); // a read of a large config on a busy machine
      return seen;
    },
    complete: () => false,
    apply: (s) => applied.push([s, clock.now()]),
  });
  text = "two";
  settle.changed();
  await clock.advanceAsync(2000);
  assert.equal(reads, [DEFAULT_QUICK_MS, DEFAULT_SETTLE_MS, 2 * DEFAULT_SETTLE_MS + 100]);
  assert.equal(applied, [["two", 2 * DEFAULT_SETTLE_MS + 200]]);
});

test.run();
