// The one reconnect loop for every discovery source (linkerd's "recover" layer): when a source
// fails, the last snapshot stays in service and the source is restarted after a jittered
// exponential backoff; the first complete snapshot of the new run replaces the old one.
import { systemClock, type Clock, type TimerHandle } from "../lib/clock.ts";
import type { Registry, RegistrySource } from "./registry.ts";
import type { RegistrySnapshot } from "./types.ts";

export interface BackoffOptions {
  /** delay after the first failure; doubles per failure in a row (default 500 ms) */
  baseMs?: number;
  /** the doubling stops here (default 30 s) */
  maxMs?: number;
  /** up to this fraction of the delay is added at random, so many proxies don't retry in step (default 0.5) */
  jitter?: number;
}

export interface RecoverOptions extends BackoffOptions {
  clock?: Clock;
  random?: () => number;
  log?: (message: string) => void;
  /** every complete snapshot (true) and every failure of the watch (false), at the clock's time: the sync metrics */
  onSync?: (ok: boolean, atMs: number) => void;
}

/** delay before restart number `attempt` (0 = after the first failure), linkerd's ExponentialBackoff */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const delay = Math.min(max, base * 2 ** Math.min(attempt, 52));
  return delay + delay * (options.jitter ?? 0.5) * random();
}

export function recoverRegistry(name: string, source: RegistrySource, options: RecoverOptions = {}): Registry {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  let onUpdate: ((snapshot: RegistrySnapshot) => void) | undefined;
  let run: AbortController | undefined;
  let timer: TimerHandle | undefined;
  let failures = 0;
  let synced = false;

  function startRun(): void {
    const controller = new AbortController();
    run = controller;
    const emit = (snapshot: RegistrySnapshot) => {
      if (run !== controller || controller.signal.aborted) return; // a stale run or stopped
      failures = 0; // the source works again: the next failure starts from the base delay
      synced = true;
      options.onSync?.(true, clock.now());
      onUpdate?.(snapshot);
    };
    let outcome: Promise<void>;
    try {
      outcome = source(emit, controller.signal);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      () => failed(controller, new Error("the watch ended")),
      (error) => failed(controller, error),
    );
  }

  function failed(controller: AbortController, error: unknown): void {
    if (run !== controller || controller.signal.aborted) return; // stopped on purpose
    controller.abort(); // lets whatever the source still has open close
    options.onSync?.(false, clock.now());
    const delay = backoffDelay(failures++, options, random);
    const message = error instanceof Error ? error.message : String(error);
    options.log?.(`registry ${name}: ${message}; keeping the last ${synced ? "snapshot" : "(empty) state"}, retrying in ${Math.round(delay)} ms`);
    timer = clock.setTimeout(() => {
      timer = undefined;
      if (run === controller) startRun();
    }, delay);
  }

  return {
    name,
    start(listener) {
      if (onUpdate) throw new Error(`registry ${name} already started`);
      onUpdate = listener;
      startRun();
    },
    stop() {
      const controller = run;
      run = undefined;
      onUpdate = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      controller?.abort();
    },
    synced: () => synced,
  };
}
