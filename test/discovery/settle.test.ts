// The settle rule on a fake clock: a config change is applied only once the files read the same
// twice, settleMs apart, with no write in between — a writer that pauses mid-file is never applied
// half-way.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { settleChanges } from "../../runtime/discovery/settle.ts";
import { DEFAULT_SETTLE_MS } from "../../runtime/discovery/config-watch.ts";

const GATEWAY = "kind: Gateway\n";
const ROUTE = "kind: VirtualService\n";

function files(initial: string, settleMs = 100) {
  const clock = createFakeClock();
  let content = initial;
  const applied: string[] = [];
  const settle = settleChanges({ settleMs, clock, read: async () => content, apply: (s) => applied.push(s) });
  /** a write the watcher reports */
  const write = (text: string) => {
    content = text;
    settle.changed();
  };
  return { clock, applied, settle, write, set: (text: string) => (content = text) };
}

test("with the default settle time, a file written in two pieces 300 ms apart (cut at a document boundary) is applied once, whole", async () => {
  const f = files(`${ROUTE}---\n${GATEWAY}`, DEFAULT_SETTLE_MS);
  f.write(ROUTE); // truncated and the first document written: valid YAML with no Gateway
  await f.clock.advanceAsync(300);
  assert.equal(f.applied, [], "the first piece alone was applied");
  f.write(`${ROUTE}---\n${GATEWAY}-x`);
  await f.clock.advanceAsync(2 * DEFAULT_SETTLE_MS - 1);
  assert.equal(f.applied, [], "applied before it was stable for two reads");
  await f.clock.advanceAsync(1);
  assert.equal(f.applied, [`${ROUTE}---\n${GATEWAY}-x`]);
  assert.is(f.clock.pending(), 0);
});

test("the limit: a writer pausing for 2 × settleMs or more has its first piece applied (hence: write atomically)", async () => {
  const f = files("whole", 100);
  f.write("piece");
  await f.clock.advanceAsync(200);
  assert.equal(f.applied, ["piece"]);
});

test("a file that keeps changing is applied only after it stops", async () => {
  const f = files("a");
  for (let i = 0; i < 10; i++) {
    f.write(`v${i}`);
    await f.clock.advanceAsync(150); // each pause is under 2 × settleMs
  }
  assert.equal(f.applied, []);
  await f.clock.advanceAsync(100);
  assert.equal(f.applied, ["v9"]);
});

test("a change the watcher did not report between the two reads restarts the wait", async () => {
  const f = files("a");
  f.write("b");
  await f.clock.advanceAsync(100);
  f.set("c"); // e.g. a second write folded into the first event
  await f.clock.advanceAsync(100);
  assert.equal(f.applied, [], "two different reads counted as stable");
  await f.clock.advanceAsync(100);
  assert.equal(f.applied, ["c"]);
});

test("a write of the same text still reloads once (a touch, `demo switch` to the scenario in service)", async () => {
  const f = files("same");
  f.write("same");
  f.write("same");
  await f.clock.advanceAsync(1000);
  assert.equal(f.applied, ["same"]);
  assert.is(f.clock.pending(), 0);
});

test("after close nothing is applied", async () => {
  const f = files("a");
  f.write("b");
  await f.clock.advanceAsync(100);
  f.settle.close();
  await f.clock.advanceAsync(1000);
  f.write("c");
  await f.clock.advanceAsync(1000);
  assert.equal(f.applied, []);
});

test("each first read is offered as a candidate before it is confirmed (work on it can start early)", async () => {
  const clock = createFakeClock();
  let content = "a";
  const events: string[] = [];
  const settle = settleChanges({ settleMs: 100, clock, read: async () => content, apply: (s) => events.push(`apply ${s}`), candidate: (s) => events.push(`candidate ${s}`) });
  content = "piece";
  settle.changed();
  await clock.advanceAsync(100);
  assert.equal(events, ["candidate piece"], "offered at the first read, not applied");
  content = "whole";
  settle.changed();
  await clock.advanceAsync(100);
  await clock.advanceAsync(100);
  assert.equal(events, ["candidate piece", "candidate whole", "apply whole"]);
});

test.run();
