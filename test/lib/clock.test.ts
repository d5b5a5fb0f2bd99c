// The fake clock every timing test runs on: order, clearing, nested timers, async loops.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock, sleep, systemClock } from "../../runtime/lib/clock.ts";

test("timers fire in due order, ties in the order they were armed", () => {
  const clock = createFakeClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("c@30"), 30);
  clock.setTimeout(() => fired.push("a@10"), 10);
  clock.setTimeout(() => fired.push("b@10"), 10);
  clock.advance(9);
  assert.equal(fired, []);
  clock.advance(1);
  assert.equal(fired, ["a@10", "b@10"]);
  clock.advance(100);
  assert.equal(fired, ["a@10", "b@10", "c@30"]);
  assert.is(clock.now(), 110);
});

test("now() inside a callback is the timer's due time", () => {
  const clock = createFakeClock(1000);
  const seen: number[] = [];
  clock.setTimeout(() => seen.push(clock.now()), 5);
  clock.setTimeout(() => seen.push(clock.now()), 20);
  clock.advance(50);
  assert.equal(seen, [1005, 1020]);
  assert.is(clock.now(), 1050);
});

test("cleared timers don't fire; pending() counts what's left", () => {
  const clock = createFakeClock();
  let fired = 0;
  const h = clock.setTimeout(() => fired++, 10);
  clock.setTimeout(() => fired++, 20);
  assert.is(clock.pending(), 2);
  clock.clearTimeout(h);
  clock.advance(100);
  assert.is(fired, 1);
  assert.is(clock.pending(), 0);
});

test("a timer armed by a callback fires within the same advance when due", () => {
  const clock = createFakeClock();
  const at: number[] = [];
  const tick = () => {
    at.push(clock.now());
    clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 10);
  clock.advance(35);
  assert.equal(at, [10, 20, 30]);
  assert.is(clock.pending(), 1);
});

test("negative delays fire at once", () => {
  const clock = createFakeClock();
  let fired = false;
  clock.setTimeout(() => (fired = true), -5);
  clock.advance(0);
  assert.ok(fired);
});

test("advanceAsync lets an awaiting loop arm its next timer", async () => {
  const clock = createFakeClock();
  const woke: number[] = [];
  const loop = (async () => {
    for (let i = 0; i < 3; i++) {
      await sleep(clock, 100);
      woke.push(clock.now());
    }
  })();
  await clock.advanceAsync(300);
  await loop;
  assert.equal(woke, [100, 200, 300]);
});

test("systemClock: real timers fire and now() does not go backwards", async () => {
  const a = systemClock.now();
  await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
  const b = systemClock.now();
  assert.ok(b >= a + 4, `${b - a} ms`);
  let fired = false;
  const h = systemClock.setTimeout(() => (fired = true), 1);
  systemClock.clearTimeout(h);
  await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 10));
  assert.not.ok(fired);
});

test.run();
