// Certificate renewal on a fake clock: at 50 % of the life ± jitter, never after 50 % + jitter;
// retries with backoff when the CA fails; a loud "expired" if it never comes back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { renewalTime, startRenewal, type CertLifetime, type RenewalEvent } from "../../runtime/security/rotation.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { seededRandom } from "../resilience/seeded-random.ts";

const HOUR = 3_600_000;
const START = Date.UTC(2030, 0, 1);
/** a 24 h certificate back-dated 5 minutes, as the CA issues them */
const cert = (from: number): CertLifetime => ({ notBefore: from - 5 * 60_000, notAfter: from + 24 * HOUR });
const life = 24 * HOUR + 5 * 60_000;

test("renewalTime: 50 % of the life, ±10 % of the life at the extremes of the random draw", () => {
  const c = cert(START);
  const nb = +c.notBefore;
  assert.is(renewalTime(c, 0.5), nb + life * 0.5);
  assert.is(renewalTime(c, 0), nb + life * 0.4);
  assert.ok(renewalTime(c, 0.999999) < nb + life * 0.6);
  assert.is(renewalTime(c, 0.5, 0.5, 0), nb + life / 2, "zero jitter for deterministic tests");
  assert.is(renewalTime(c, 1, 0.99, 0.5), +c.notAfter, "never after notAfter");
});

test("on a fake clock, renewal happens before 50 % + jitter of the life, and not before 50 % − jitter", async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const clock = createFakeClock(START);
    const c = cert(START);
    const calls: number[] = [];
    const scheduler = startRenewal(c, { clock, random: seededRandom(seed), onEvent: () => {}, renew: async () => (calls.push(clock.now()), cert(clock.now())) });
    const lower = +c.notBefore + life * 0.4;
    const upper = +c.notBefore + life * 0.6;
    await clock.advanceAsync(lower - clock.now() - 1);
    assert.is(calls.length, 0, `seed ${seed}: renewed too early`);
    await clock.advanceAsync(upper - clock.now());
    assert.is(calls.length, 1, `seed ${seed}: not renewed by 50 % + jitter`);
    assert.ok(calls[0] >= lower && calls[0] <= upper);
    assert.is(scheduler.current.notAfter, calls[0] + 24 * HOUR, "the new certificate is in use");
    scheduler.stop();
    assert.is(clock.pending(), 0);
  }
});

test("each renewal schedules the next from the new certificate's life", async () => {
  const clock = createFakeClock(START);
  const calls: number[] = [];
  startRenewal(cert(START), { clock, random: () => 0.5, onEvent: () => {}, renew: async () => (calls.push(clock.now()), cert(clock.now())) });
  await clock.advanceAsync(3 * 24 * HOUR);
  assert.ok(calls.length >= 5, `only ${calls.length} renewals in 3 days`);
  // each new certificate is back-dated 5 minutes, so its half-life comes 5 minutes sooner
  for (let i = 1; i < calls.length; i++) assert.is(calls[i] - calls[i - 1], life / 2 - 5 * 60_000);
});

test("a failing CA is retried with exponential backoff, capped; success resets it", async () => {
  const clock = createFakeClock(START);
  const events: RenewalEvent[] = [];
  let failures = 4;
  startRenewal(cert(START), {
    clock, random: () => 0.5, retryBaseMs: 1000, retryMaxMs: 5000, onEvent: (e) => events.push(e),
    renew: async () => {
      if (failures-- > 0) throw new Error("CA unavailable");
      return cert(clock.now());
    },
  });
  await clock.advanceAsync(life / 2 + 20_000);
  const failed = events.filter((e) => e.type === "renew-failed");
  assert.equal(failed.map((e) => e.type === "renew-failed" && e.retryInMs), [1000, 2000, 4000, 5000]);
  assert.ok(failed.every((e) => e.type === "renew-failed" && e.expiresInMs > 0 && (e.error as Error).message === "CA unavailable"));
  assert.is(events.filter((e) => e.type === "renewed").length, 1);
  assert.is(events.at(-1)!.type, "scheduled");
});

test("a certificate that expires without renewal is reported, once, and retries go on", async () => {
  const clock = createFakeClock(START);
  const events: RenewalEvent[] = [];
  let calls = 0;
  const c = cert(START);
  const scheduler = startRenewal(c, { clock, random: () => 0.5, onEvent: (e) => events.push(e), renew: async () => (calls++, Promise.reject(new Error("down"))) });
  await clock.advanceAsync(+c.notAfter - clock.now());
  assert.is(events.filter((e) => e.type === "expired").length, 0, "still valid at notAfter");
  await clock.advanceAsync(2 * HOUR);
  assert.equal(events.filter((e) => e.type === "expired"), [{ type: "expired", notAfter: +c.notAfter }]);
  const before = calls;
  await clock.advanceAsync(5 * 60_000);
  assert.ok(calls > before, "still trying after expiry");
  scheduler.stop();
  assert.is(clock.pending(), 0);
});

test("already past its renewal point: renew at once; an already-dead 'new' cert counts as a failure", async () => {
  const clock = createFakeClock(START + 20 * HOUR);
  const events: RenewalEvent[] = [];
  let calls = 0;
  startRenewal(cert(START), { clock, random: () => 0.5, onEvent: (e) => events.push(e), renew: async () => (calls++, cert(START - 48 * HOUR)) });
  await clock.advanceAsync(0);
  assert.is(calls, 1);
  assert.is(events.at(-1)!.type, "renew-failed");
});

test.run();
