// Start-up's memory given back once the process is idle. The runtime's shrink (Bun.shrink: JSC's
// shrinkFootprint) collects and returns freed pages, but it also drops every function's compiled
// code. Under load that code is compiled again from the first tier, and the JIT takes many
// seconds longer to settle the second time: measured on the gateway row's layout with load from
// its first second, 40.5 against 36.9 µs per request 2–6 s after start, gone only after ~15 s
// (docs/performance.md, "The start-up shrink under load"). So the shrink waits for an interval in
// which the process used almost no CPU. A proxy busy from the start keeps its code and shrinks at
// its first quiet second; a look costs one CPU-time reading, off the request path.
import type { Clock, TimerHandle } from "./clock.ts";

export interface ShrinkWhenIdleOptions {
  clock: Clock;
  /** the process's CPU time so far (user + system, every thread), ms */
  cpuTimeMs: () => number;
  shrink: () => void;
  /** ms between looks, the first after the call (the start-up's last steps done by then) */
  everyMs: number;
  /** an interval counts as idle when the process used less than this share of one core in it */
  idleShare?: number;
}

export const DEFAULT_IDLE_SHARE = 0.05;

/** Shrinks once, at the end of the first interval the process was idle in; stop() gives up. */
export function shrinkWhenIdle(options: ShrinkWhenIdleOptions): { stop(): void } {
  const { clock, cpuTimeMs, shrink } = options;
  const idleShare = options.idleShare ?? DEFAULT_IDLE_SHARE;
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
    timer = clock.setTimeout(look, options.everyMs);
  };
  timer = clock.setTimeout(look, options.everyMs);
  return {
    stop() {
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
