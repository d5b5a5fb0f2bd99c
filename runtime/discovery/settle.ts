// Holds a config change back until the files have stopped changing. Editors, `kubectl cp` and
// config tools write a file in pieces; a piece that ends at a document boundary is valid YAML, and
// applying it drops every resource still to come (a gateway closed its port for the 300 ms between
// two writes). A change is applied once the files read the same twice, settleMs apart, with no
// change reported in between. A write of the same text still counts (a touch reloads, as before:
// `dietmesh demo switch` to the scenario in service waits for a new version).
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
  let candidate: T | undefined;
  let timer: TimerHandle | undefined;
  let generation = 0;
  let closed = false;

  const arm = () => {
    if (timer !== undefined) options.clock.clearTimeout(timer);
    timer = options.clock.setTimeout(() => void check(), options.settleMs);
  };

  async function check(): Promise<void> {
    timer = undefined;
    const seen = generation;
    const now = await options.read();
    // a change reported during the read restarted the quiet time; that timer reads again
    if (closed || seen !== generation) return;
    if (candidate === undefined || !same(now, candidate)) {
      candidate = now;
      arm();
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
      arm();
    },
    close() {
      closed = true;
      if (timer !== undefined) options.clock.clearTimeout(timer);
    },
  };
}
