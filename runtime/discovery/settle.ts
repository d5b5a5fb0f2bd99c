// Holds a config change back until the files have stopped changing. Editors, `kubectl cp` and
// config tools write a file in pieces; a piece that ends at a document boundary is valid YAML, and
// applying it drops every resource still to come (a gateway closed its port for the 300 ms between
// two writes). A change is applied once the files read the same twice, settleMs apart, with no
// change reported in between. A write of the same text still counts (a touch reloads, as before:
// `dietmesh demo switch` to the scenario in service waits for a new version).
// A file replaced by a rename (how `mv`, most editors, atomic config writers and Kubernetes
// ConfigMap volumes update files) cannot be read half-written: such a change, when the caller can
// tell (`complete`), is applied at the first read after a short quiet time that folds a burst.
import type { Clock, TimerHandle } from "../lib/clock.ts";

export interface SettleOptions<T = string> {
  /** quiet time after the last reported change before the files are read, and between the two reads */
  settleMs: number;
  clock: Clock;
  /** the files as they are now (config/files.ts readConfigFiles, or configSnapshot's string) */
  read(): Promise<T>;
  /** whether two reads saw the same files (default ===; config/files.ts sameFiles) */
  same?(a: T, b: T): boolean;
  /** the files settled after a change */
  apply(snapshot: T): void;
  /**
   * the first read after a quiet time, which the next read must confirm: work on it can start
   * now (config-watch parses the changed files while the second read waits)
   */
  candidate?(snapshot: T): void;
  /**
   * whether the files as read are complete by construction (config/files.ts replacedWhole: every
   * changed file was replaced whole); absent, every change settles
   */
  complete?(snapshot: T): boolean;
  /** the quiet time before the read that may find the change complete (default 40 ms) */
  quickMs?: number;
}

export interface Settle {
  /** a watcher saw a write: start (or restart) the quiet time */
  changed(): void;
  close(): void;
}

/**
 * A pause in a write shorter than 2 × settleMs is never applied half-way: the first read after the
 * pause is only a candidate, and the write that ends the pause restarts the quiet time.
 */
export function settleChanges<T = string>(options: SettleOptions<T>): Settle {
  const same = options.same ?? ((a: T, b: T) => a === b);
  // the quick read only where the caller can recognise a complete change, and never later than the settle read
  const quickMs = options.complete ? Math.min(options.quickMs ?? 40, options.settleMs) : undefined;
  let candidate: T | undefined;
  let timer: TimerHandle | undefined;
  let generation = 0;
  /** the next read is the quick one (the first after a reported change) */
  let quick = false;
  /** when the last change was reported (the clock's time) */
  let lastChange = 0;
  let closed = false;

  const arm = (ms: number) => {
    if (timer !== undefined) options.clock.clearTimeout(timer);
    timer = options.clock.setTimeout(() => void check(), ms);
  };

  async function check(): Promise<void> {
    timer = undefined;
    const seen = generation;
    const wasQuick = quick;
    quick = false;
    const now = await options.read();
    // a change reported during the read restarted the quiet time; that timer reads again
    if (closed || seen !== generation) return;
    if (options.complete?.(now)) {
      candidate = undefined;
      options.apply(now);
      return;
    }
    if (wasQuick) {
      // not complete: written in place, so today's rule — the first read that counts comes a full
      // settle time after the write (a read this early would shorten the pause it protects); the
      // quick read's own time is part of that wait, not added to it
      arm(Math.max(0, lastChange + options.settleMs - options.clock.now()));
      return;
    }
    if (candidate === undefined || !same(now, candidate)) {
      candidate = now;
      arm(options.settleMs);
      options.candidate?.(now);
      return;
    }
    candidate = undefined;
    options.apply(now);
  }

  return {
    changed() {
      if (closed) return;
      generation++;
      if (quickMs === undefined) return arm(options.settleMs);
      // a write restarts the whole rule: a candidate read before it no longer counts
      candidate = undefined;
      quick = true;
      lastChange = options.clock.now();
      arm(quickMs);
    },
    close() {
      closed = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
    },
  };
}
