// Consul's blocking-query loop, with the three rules of its "Blocking Queries" page: reset the
// index to 0 when it goes backwards, never block on an index below 1, and rate-limit the loop
// (a token bucket with a burst of 2) so a churning result degrades into polling, not a busy loop.
import type { Clock, TimerHandle } from "../../runtime/lib/clock.ts";
import type { ConsulClient, ConsulRead } from "./client.ts";

/**
 * The index for the next request after a response that carried `returned`. Backwards (a raft
 * snapshot restored, the item with the highest index deleted, a Consul upgrade): 0, a plain read
 * that starts the loop over. Otherwise at least 1: blocking on 0 returns at once.
 */
export function nextIndex(previous: number, returned: number | undefined): number {
  const index = returned ?? 0;
  if (index < previous) return 0;
  return Math.max(index, 1);
}

export interface TokenBucket {
  /** resolves when a query may go out; false when the signal aborted first */
  take(signal: AbortSignal): Promise<boolean>;
}

/** `burst` queries without waiting, then one per `intervalMs`, on the given clock */
export function tokenBucket(burst: number, intervalMs: number, clock: Clock): TokenBucket {
  let tokens = burst;
  let last = clock.now();
  const refill = () => {
    const now = clock.now();
    tokens = Math.min(burst, tokens + (now - last) / intervalMs);
    last = now;
  };
  return {
    async take(signal) {
      refill();
      while (tokens < 1) {
        if (!(await pause(clock, (1 - tokens) * intervalMs, signal))) return false;
        refill();
      }
      tokens -= 1;
      return !signal.aborted;
    },
  };
}

/** resolves true after ms, or false as soon as the signal aborts */
export function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: TimerHandle | undefined = undefined;
    const onAbort = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve(false);
    };
    timer = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export interface WatchOptions<T> {
  client: ConsulClient;
  path: string;
  query?: Record<string, string>;
  waitMs: number;
  bucket: TokenBucket;
  signal: AbortSignal;
  /** each response whose index differs from the one asked with (the first one always) */
  onResult: (read: ConsulRead<T>) => void;
}

/** Runs until the signal aborts (resolves) or a request fails (rejects). */
export async function watchQuery<T>(options: WatchOptions<T>): Promise<void> {
  const { client, path, signal, waitMs } = options;
  // Consul adds up to wait/16 on its side; give the answer that much and a little more
  const timeoutMs = waitMs + waitMs / 16 + 5_000;
  let index = 0;
  let first = true;
  while (await options.bucket.take(signal)) {
    const query = { ...options.query };
    if (index > 0) Object.assign(query, { index: String(index), wait: `${Math.max(1, Math.round(waitMs))}ms` });
    let read: ConsulRead<T>;
    try {
      read = await client.get<T>(path, query, signal, timeoutMs);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (signal.aborted) return;
    if (first || read.index !== index) options.onResult(read);
    first = false;
    index = nextIndex(index, read.index);
  }
}
