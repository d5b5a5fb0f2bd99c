// Writes access log lines without making a request wait: log() only queues the entry; formatting
// and the sink's write happen later, in one batch — on a timer, or on the next microtask once a
// batch is full. One write is in flight at a time, and the queue is bounded: when the sink can't
// keep up, entries are dropped and counted rather than held in memory.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { AccessLogEntry } from "./access-log.ts";

export interface AccessLogWriterOptions {
  /** receives whole lines, each ending in "\n"; may return a promise (backpressure) */
  write: (text: string) => void | Promise<void>;
  format: (entry: AccessLogEntry) => string;
  clock: Clock;
  /** a batch this size is written at once (next microtask) instead of waiting for the timer */
  maxBatch?: number;
  /** how long a partial batch may wait; 0 = next macrotask */
  flushMs?: number;
  /** entries held while the sink is busy; beyond it they are dropped */
  maxQueued?: number;
  /** a failing sink is reported here, once per failure, never thrown at the request */
  onError?: (error: unknown) => void;
}

export interface AccessLogWriter {
  log(entry: AccessLogEntry): void;
  /** writes everything queued; resolves when the sink has taken it */
  flush(): Promise<void>;
  stats(): { written: number; dropped: number; queued: number; failed: number };
}

export function createAccessLogWriter(options: AccessLogWriterOptions): AccessLogWriter {
  const { write, format, clock } = options;
  const maxBatch = options.maxBatch ?? 64;
  const flushMs = options.flushMs ?? 0;
  const maxQueued = options.maxQueued ?? 10_000;
  let queue: AccessLogEntry[] = [];
  let timer: TimerHandle | undefined;
  let microtask = false;
  let writing: Promise<void> | undefined;
  let written = 0;
  let dropped = 0;
  let failed = 0;

  function render(batch: AccessLogEntry[]): { text: string; lines: number } {
    let text = "";
    let lines = 0;
    for (const e of batch) {
      try {
        text += format(e) + "\n";
        lines++;
      } catch (error) {
        // one odd entry must not lose the batch
        failed++;
        options.onError?.(error);
      }
    }
    return { text, lines };
  }

  /** drains the queue, a batch per sink write, one write at a time */
  async function drain(): Promise<void> {
    while (queue.length) {
      const batch = queue.length <= maxBatch ? queue : queue.splice(0, maxBatch);
      if (batch === queue) queue = [];
      const { text, lines } = render(batch);
      try {
        if (text) await write(text);
        written += lines;
      } catch (error) {
        failed += lines;
        options.onError?.(error);
      }
    }
  }

  function start(): Promise<void> {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    microtask = false;
    writing ??= drain().finally(() => {
      writing = undefined;
      if (queue.length) schedule();
    });
    return writing;
  }

  function schedule(): void {
    if (writing) return; // the running drain picks new entries up
    if (queue.length >= maxBatch) {
      if (!microtask) {
        microtask = true;
        queueMicrotask(() => void start());
      }
    } else if (timer === undefined) {
      timer = clock.setTimeout(() => void start(), flushMs);
    }
  }

  return {
    log(entry) {
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      queue.push(entry);
      schedule();
    },
    async flush() {
      while (writing || queue.length) await (writing ?? start());
    },
    stats: () => ({ written, dropped, queued: queue.length, failed }),
  };
}
