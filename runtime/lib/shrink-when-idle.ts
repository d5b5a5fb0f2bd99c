// Start-up's memory given back once the process is idle. The runtime's shrink (on Bun, JSC's
// shrinkFootprint) collects and returns freed pages, but it also drops every function's compiled
// code. Under load that code is compiled again from the first tier, and the JIT takes many
// seconds longer to settle the second time: measured on the gateway row's layout with load from
// its first second, 40.5 against 36.9 µs per request 2–6 s after start, gone only after ~15 s
// (docs/performance.md, "The start-up shrink under load"). So the shrink waits for a second in
// which the process used almost no CPU (an idle proxy uses ~0.1 % of a core; 1,000 requests a
// second, ~4 %). It is about start-up: a proxy still busy after its first ten seconds has warm
// code worth more than what start-up left, and is not shrunk at all. A look costs one CPU-time
// reading, off the request path.
import type { Clock, TimerHandle } from "./clock.ts";

export interface ShrinkWhenIdleOptions {
  clock: Clock;
  /** the process's CPU time so far (user + system, every thread), ms */
  cpuTimeMs: () => number;
  shrink: () => void;
  /** ms between looks, the first after the call (the start-up's last steps done by then) */
  everyMs: number;
  /** looks before giving up: a proxy busy for this long keeps its memory and its compiled code */
  looks?: number;
  /** an interval counts as idle when the process used less than this share of one core in it */
  idleShare?: number;
}

const DEFAULT_LOOKS = 10;
const DEFAULT_IDLE_SHARE = 0.01;

/** Shrinks once, at the end of the first of `looks` intervals the process was idle in; stop() gives up. */
export function shrinkWhenIdle(options: ShrinkWhenIdleOptions): { stop(): void } {
  const { clock, cpuTimeMs, shrink } = options;
  const idleShare = options.idleShare ?? DEFAULT_IDLE_SHARE;
  let looksLeft = options.looks ?? DEFAULT_LOOKS;
  let since = clock.now();
  let cpuSince = cpuTimeMs();
  let timer: TimerHandle | undefined;
  const look = () => {
    const now = clock.now();
    const cpu = cpuTimeMs();
    if (cpu - cpuSince < idleShare * (now - since)) {
      timer = undefined;
      shrink();
      return;
    }
    since = now;
    cpuSince = cpu;
    timer = --looksLeft > 0 ? clock.setTimeout(look, options.everyMs) : undefined;
  };
  timer = clock.setTimeout(look, options.everyMs);
  return {
    stop() {
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
