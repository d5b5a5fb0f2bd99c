// Outlier detection on a fake clock: ejection, return, multiplier growth and decay, limits, panic.
// What counts as an error, and state across host changes: outlier-counting.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createBalancer } from "../../runtime/resilience/balancers/index.ts";
import { compileOutlierSettings } from "../../runtime/resilience/outlier-settings.ts";
import { at, S, setup } from "./outlier-fixture.ts";
import { seededRandom } from "./seeded-random.ts";

test("5 consecutive 5xx (the default) eject the host at once", () => {
  const { hs, hit, state } = setup({});
  hit(hs[0], { status: 500 }, 4);
  assert.ok(hs[0].healthy);
  assert.is(state(hs[0]).consecutive5xx, 4);
  hit(hs[0], { status: 503 });
  assert.not.ok(hs[0].healthy);
  assert.equal(state(hs[0]), {
    address: "10.0.0.1:8080", ejected: true, ejectionCount: 1, multiplier: 1, ejectedUntil: 30 * S,
    consecutive5xx: 0, consecutiveGateway: 1, consecutiveLocalOrigin: 0, // the 503 was a gateway error too
  });
});

test("no traffic while ejected for baseEjectionTime; back at the first sweep after it", () => {
  const { clock, hs, hit, d } = setup({ consecutive5xxErrors: 3 }, 3);
  const lb = createBalancer({ simple: "ROUND_ROBIN" }, hs, seededRandom(1));
  hit(hs[1], { status: 500 }, 3);
  for (let i = 0; i < 300; i++) assert.is.not(lb.pick({}), hs[1]);
  at(clock, 29_999);
  assert.not.ok(hs[1].healthy);
  at(clock, 30 * S);
  assert.ok(hs[1].healthy);
  assert.ok(Array.from({ length: 6 }, () => lb.pick({})).includes(hs[1]));
  d.stop();
  assert.is(clock.pending(), 0);
});

test("the ejection time grows with each ejection and decays while healthy", () => {
  const { clock, hs, hit, state } = setup({ consecutive5xxErrors: 1, interval: 10 * S, baseEjectionTime: 30 * S });
  const h = hs[0];
  hit(h, { status: 500 }); // ejection 1 at 0 s: 30 s
  at(clock, 30 * S);
  assert.ok(h.healthy);
  hit(h, { status: 500 }); // ejection 2 at 30 s: 60 s
  assert.equal([state(h).multiplier, state(h).ejectedUntil], [2, 90 * S]);
  at(clock, 80 * S);
  assert.not.ok(h.healthy);
  at(clock, 90 * S);
  assert.ok(h.healthy);
  assert.is(state(h).ejectionCount, 2);
  at(clock, 100 * S); // healthy a full interval: one step down
  assert.is(state(h).multiplier, 1);
  at(clock, 110 * S);
  assert.is(state(h).multiplier, 0);
  hit(h, { status: 500 }); // back to the base time
  assert.equal([state(h).multiplier, state(h).ejectedUntil], [1, 140 * S]);
});

test("the ejection time stops growing at 300 s (or the base, when larger)", () => {
  const { clock, hs, hit, state } = setup({ consecutive5xxErrors: 1 });
  const h = hs[0];
  for (let i = 1; i <= 14; i++) {
    hit(h, { status: 502 });
    const s = state(h);
    assert.is(s.ejectedUntil! - clock.now(), Math.min(30 * i, 300) * S, `ejection ${i}`);
    assert.ok(s.multiplier <= 11, `multiplier ${s.multiplier}`);
    clock.advance(s.ejectedUntil! - clock.now()); // sweeps fall on multiples of 10 s, as do ejections
    assert.ok(h.healthy, `returned after ejection ${i}`);
  }
  assert.is(compileOutlierSettings({ baseEjectionTime: 200 * S }).maxEjectionTimeMs, 300 * S);
  assert.is(compileOutlierSettings({ baseEjectionTime: 400 * S }).maxEjectionTimeMs, 400 * S);
});

test("maxEjectionPercent 10 % (default) still lets one host of three go, but not two", () => {
  const { hs, hit, d } = setup({ consecutive5xxErrors: 2 }, 3);
  hit(hs[0], { status: 500 }, 2);
  hit(hs[1], { status: 500 }, 2);
  assert.equal(hs.map((h) => h.healthy), [false, true, true]);
  assert.is(d.snapshot()[1].consecutive5xx, 0, "the counter restarts though the ejection was refused");
});

test("maxEjectionPercent 100 ejects every host: no host left to pick", () => {
  const { hs, hit } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100 }, 3);
  for (const h of hs) hit(h, { status: 500 });
  assert.equal(hs.map((h) => h.healthy), [false, false, false]);
  assert.is(createBalancer(undefined, hs, seededRandom(2)).pick({}), undefined);
});

test("maxEjectionPercent 50 of 4 hosts allows two", () => {
  const { hs, hit } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 50 }, 4);
  for (const h of hs) hit(h, { status: 500 });
  assert.equal(hs.map((h) => h.healthy), [false, false, true, true]);
});

test("panic below minHealthPercent: every host is used again, ejections still reported", () => {
  const { clock, hs, hit, d } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100, minHealthPercent: 50 }, 4);
  hit(hs[0], { status: 500 });
  hit(hs[1], { status: 500 });
  assert.not.ok(d.panic(), "50 % healthy is not below 50 %");
  assert.equal(hs.map((h) => h.healthy), [false, false, true, true]);
  hit(hs[2], { status: 500 });
  assert.ok(d.panic());
  assert.equal(hs.map((h) => h.healthy), [true, true, true, true]);
  assert.equal(d.snapshot().map((s) => s.ejected), [true, true, true, false]);
  at(clock, 30 * S);
  assert.not.ok(d.panic());
  assert.equal(hs.map((h) => h.healthy), [true, true, true, true]);
});

test("without minHealthPercent there is no panic mode", () => {
  const { hs, hit, d } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100 }, 2);
  for (const h of hs) hit(h, { status: 500 });
  assert.not.ok(d.panic());
  assert.equal(hs.map((h) => h.healthy), [false, false]);
});

test.run();
