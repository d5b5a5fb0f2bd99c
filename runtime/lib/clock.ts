// Time as a parameter: every timer-driven policy (backoff, per-try timeout, outlier sweeps) takes a
// Clock, so tests run on a fake one they advance by hand, as Envoy's components take a TimeSource.

/** opaque: whatever the clock's setTimeout returned */
export type TimerHandle = { readonly __timerHandle: true };

export interface Clock {
  /** milliseconds; only differences between two readings mean anything */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Web-standard timers. now() is monotonic (performance.now) shifted to the epoch, so a wall-clock
 * step (NTP, a suspended laptop) can't stretch or cut short an ejection or a backoff.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => globalThis.clearTimeout(handle as unknown as number),
};

/** resolves after ms on the given clock; on a fake clock, only when the test advances it */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimeout(resolve, ms));
}

export interface FakeClock extends Clock {
  /** moves time forward, firing every timer due on the way, earliest first */
  advance(ms: number): void;
  /**
   * Same, but lets promise continuations run after each timer, so a timer armed by code that
   * awaited an earlier one (a retry loop's next backoff) fires within the same advance.
   */
  advanceAsync(ms: number): Promise<void>;
  /** timers armed and not yet fired or cleared */
  pending(): number;
}

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
}

export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Set<FakeTimer>();

  /** the earliest timer due at or before `until`; ties go to the one armed first */
  function nextDue(until: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of timers) {
      if (t.due <= until && (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq))) best = t;
    }
    return best;
  }

  function fireOne(until: number): boolean {
    const t = nextDue(until);
    if (t === undefined) return false;
    timers.delete(t);
    now = Math.max(now, t.due);
    t.fn();
    return true;
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      // Like the real thing: a negative or NaN delay means "as soon as possible".
      const t: FakeTimer = { due: now + (ms > 0 ? ms : 0), seq: seq++, fn };
      timers.add(t);
      return t as unknown as TimerHandle;
    },
    clearTimeout(handle) {
      timers.delete(handle as unknown as FakeTimer);
    },
    advance(ms) {
      const until = now + ms;
      while (fireOne(until));
      now = Math.max(now, until);
    },
    async advanceAsync(ms) {
      const until = now + ms;
      await flush();
      while (fireOne(until)) await flush();
      now = Math.max(now, until);
    },
    pending: () => timers.size,
  };
}

/** one real macrotask turn: every queued promise continuation has run by then */
function flush(): Promise<void> {
  return new Promise((resolve) => globalThis.setTimeout(resolve, 0));
}
