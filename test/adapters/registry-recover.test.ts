// The one recover wrapper, on a fake clock with zero jitter: failures keep the last snapshot,
// restarts follow the exponential backoff exactly, success resets it, stop() ends everything.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { backoffDelay, recoverRegistry } from "../../runtime/model/registry-recover.ts";
import { freezeSnapshot, type RegistrySource } from "../../runtime/model/registry.ts";
import type { RegistrySnapshot } from "../../runtime/model/types.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

/** a source the test drives run by run: emit into the current run, fail it, count starts */
function scripted() {
  const runs: { emit: (s: RegistrySnapshot) => void; fail: (e: Error) => void; end: () => void; signal: AbortSignal }[] = [];
  const source: RegistrySource = (emit, signal) =>
    new Promise<void>((resolve, reject) => runs.push({ emit, fail: reject, end: resolve, signal }));
  return { source, runs, current: () => runs.at(-1)! };
}

const snap = (...hosts: string[]) => freezeSnapshot(hosts.map((h) => [h, { hostname: h, namespace: "default", ports: [], endpoints: [], location: "MESH_INTERNAL", resolution: "STATIC", source: "test" }]));
const flush = () => new Promise((r) => setTimeout(r, 0));

test("backoff doubles from the base up to the cap; jitter adds up to its fraction", () => {
  const zero = () => 0;
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, {}, zero)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal([0, 1, 2].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 250 }, zero)), [100, 200, 250]);
  assert.is(backoffDelay(0, {}, () => 1), 750, "default jitter: up to half again");
  assert.is(backoffDelay(3, { jitter: 0.1 }, () => 0.5), 4200);
  assert.is(backoffDelay(5000, {}, zero), 30000, "no overflow after many failures");
});

test("onSync: true with each snapshot, false with each failure, at the clock's time", async () => {
  const clock = createFakeClock();
  const s = scripted();
  const syncs: [boolean, number][] = [];
  const registry = recoverRegistry("test", s.source, { clock, random: () => 0, baseMs: 100, onSync: (ok, at) => syncs.push([ok, at]) });
  registry.start(() => undefined);
  assert.equal(syncs, [], "nothing before the first snapshot");
  const t0 = clock.now();
  s.current().emit(snap("a"));
  s.current().fail(new Error("gone"));
  await flush();
  clock.advance(100);
  s.current().emit(snap("a", "b"));
  assert.equal(syncs, [[true, t0], [false, t0], [true, t0 + 100]]);
  registry.stop();
});

test("a failure keeps the last snapshot and restarts after the backoff, not before", async () => {
  const clock = createFakeClock();
  const s = scripted();
  const logs: string[] = [];
  const registry = recoverRegistry("test", s.source, { clock, random: () => 0, baseMs: 100, log: (m) => logs.push(m) });
  const seen: RegistrySnapshot[] = [];
  registry.start((x) => seen.push(x));
  assert.is(registry.synced(), false);
  s.current().emit(snap("a"));
  assert.is(registry.synced(), true);
  s.current().fail(new Error("agent gone"));
  await flush();
  assert.ok(s.runs[0].signal.aborted, "the failed run is told to clean up");
  assert.match(logs[0], /registry test: agent gone; keeping the last snapshot, retrying in 100 ms/);
  assert.is(seen.length, 1, "nothing emitted on failure");
  assert.is(registry.synced(), true, "still synced");
  clock.advance(99);
  assert.is(s.runs.length, 1);
  clock.advance(1);
  assert.is(s.runs.length, 2, "restarted at 100 ms");
  s.current().fail(new Error("still gone"));
  await flush();
  clock.advance(199);
  assert.is(s.runs.length, 2);
  clock.advance(1);
  assert.is(s.runs.length, 3, "second restart 200 ms later");
  s.current().emit(snap("a", "b"));
  assert.equal([...seen.at(-1)!.services.keys()], ["a", "b"], "the new run's snapshot replaces the old");
  s.current().fail(new Error("again"));
  await flush();
  clock.advance(100);
  assert.is(s.runs.length, 4, "an emit reset the backoff to its base");
  registry.stop();
});

test("a source that ends on its own or throws at once counts as failed", async () => {
  const clock = createFakeClock();
  let starts = 0;
  const registry = recoverRegistry("flaky", () => {
    starts++;
    if (starts === 1) throw new Error("bad start");
    return Promise.resolve();
  }, { clock, random: () => 0, baseMs: 10 });
  registry.start(() => {});
  await flush();
  clock.advance(10);
  assert.is(starts, 2);
  await flush();
  clock.advance(20);
  assert.is(starts, 3, "a resolved watch is restarted too");
  registry.stop();
});

test("stop() cancels a pending restart, aborts the run and silences late emits", async () => {
  const clock = createFakeClock();
  const s = scripted();
  const registry = recoverRegistry("test", s.source, { clock, random: () => 0 });
  const seen: RegistrySnapshot[] = [];
  registry.start((x) => seen.push(x));
  const first = s.current();
  first.fail(new Error("x"));
  await flush();
  assert.is(clock.pending(), 1);
  registry.stop();
  assert.is(clock.pending(), 0);
  clock.advance(60_000);
  assert.is(s.runs.length, 1);
  registry.start((x) => seen.push(x));
  const second = s.current();
  registry.stop();
  assert.ok(second.signal.aborted);
  second.emit(snap("late"));
  first.emit(snap("stale"));
  assert.is(seen.length, 0);
});

test("an emit from a stale run is ignored", async () => {
  const clock = createFakeClock();
  const s = scripted();
  const registry = recoverRegistry("test", s.source, { clock, random: () => 0, baseMs: 1 });
  const seen: string[][] = [];
  registry.start((x) => seen.push([...x.services.keys()]));
  const old = s.current();
  old.fail(new Error("x"));
  await flush();
  clock.advance(1);
  old.emit(snap("old"));
  s.current().emit(snap("new"));
  assert.equal(seen, [["new"]]);
  registry.stop();
});

test.run();
