// The start-up shrink waits for an idle interval (runtime/lib/shrink-when-idle.ts): on a fake
// clock, with the process's CPU time set by hand.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { shrinkWhenIdle } from "../../runtime/lib/shrink-when-idle.ts";

function setup(everyMs = 1000) {
  const clock = createFakeClock();
  let cpu = 0;
  const shrunk: number[] = [];
  const policy = shrinkWhenIdle({ clock, cpuTimeMs: () => cpu, shrink: () => shrunk.push(clock.now()), everyMs });
  /** the process uses ms of CPU spread over the next ms of wall time, then time moves on */
  const run = (ms: number, share: number) => {
    for (let left = ms; left > 0; left -= 10) {
      const step = Math.min(10, left);
      cpu += share * step;
      clock.advance(step);
    }
  };
  return { clock, shrunk, policy, run };
}

test("an idle process shrinks once, at the first look", () => {
  const { clock, shrunk, run } = setup();
  run(999, 0.01);
  assert.equal(shrunk, []);
  run(1, 0.01);
  assert.equal(shrunk, [1000]);
  run(120_000, 0);
  assert.equal(shrunk, [1000], "once only");
  assert.is(clock.pending(), 0);
});

test("a busy process keeps its compiled code: it shrinks at the end of its first idle second", () => {
  const { clock, shrunk, run } = setup();
  run(1000, 1); // under load from the start: the look at 1 s finds it busy
  run(2000, 0.9);
  run(4000, 0.04); // 1,000 requests a second is still busy
  assert.equal(shrunk, []);
  assert.is(clock.pending(), 1, "one look armed at a time");
  run(999, 0.01);
  assert.equal(shrunk, []);
  run(1, 0);
  assert.equal(shrunk, [8000], "the first idle second (7–8 s) ends with the shrink");
});

test("an interval with the CPU just under 1 % of a core counts as idle; just over does not", () => {
  const under = setup();
  under.run(1000, 0.009);
  assert.equal(under.shrunk, [1000]);
  const over = setup();
  over.run(1000, 0.011);
  assert.equal(over.shrunk, []);
});

test("busy for its first ten seconds: never shrunk, even when idle later (its compiled code is warm)", () => {
  const { clock, shrunk, run } = setup();
  run(9999, 1);
  assert.is(clock.pending(), 1, "the tenth look still to come");
  run(1, 1);
  assert.is(clock.pending(), 0, "no look after the tenth");
  run(60_000, 0);
  assert.equal(shrunk, []);
});

test("idle at the tenth look: shrunk", () => {
  const { shrunk, run } = setup();
  run(9000, 1);
  run(1000, 0);
  assert.equal(shrunk, [10_000]);
});

test("stop() gives up: no look, no shrink", () => {
  const { clock, shrunk, policy, run } = setup();
  run(1000, 1);
  policy.stop();
  assert.is(clock.pending(), 0);
  run(60_000, 0);
  assert.equal(shrunk, []);
});

test.run();
