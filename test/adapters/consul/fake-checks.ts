// The fake agent's check runner: TTL checks turn critical ("TTL expired") when no pass/warn/fail
// arrives within their TTL; HTTP checks GET their URL every interval (2xx passing, 429 warning,
// anything else or no answer within the timeout critical), as Consul's agent does. Timers run on
// the store's clock, so a test on a fake clock expires a TTL by advancing it.
import type { TimerHandle } from "../../../runtime/lib/clock.ts";
import type { CheckDefinition, CheckStatus, ConsulStore } from "./fake-store.ts";

export interface CheckRunner {
  start(key: string, definition: CheckDefinition): void;
  stop(key: string): void;
  stopAll(): void;
  /** pass/warn/fail of a TTL check: sets the status and restarts its TTL; false if no such check */
  ttlUpdate(key: string, status: CheckStatus, output: string): boolean;
}

interface Running {
  definition: CheckDefinition;
  timer?: TimerHandle;
  stopped: boolean;
}

type StoreView = Pick<ConsulStore, "clock" | "setStatus" | "checks">;

export function createCheckRunner(store: StoreView): CheckRunner {
  const running = new Map<string, Running>();
  const clock = store.clock;

  function armTtl(key: string, run: Running): void {
    if (run.timer !== undefined) clock.clearTimeout(run.timer);
    run.timer = clock.setTimeout(() => {
      run.timer = undefined;
      if (!run.stopped) store.setStatus(key, "critical", "TTL expired");
    }, run.definition.ttlMs!);
  }

  async function probe(key: string, run: Running): Promise<void> {
    const { http, timeoutMs = 10_000 } = run.definition;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(), timeoutMs);
    let status: CheckStatus;
    let output: string;
    try {
      const response = await fetch(http!, { signal: controller.signal });
      const body = (await response.text()).slice(0, 4096);
      status = response.status >= 200 && response.status < 300 ? "passing" : response.status === 429 ? "warning" : "critical";
      output = `HTTP GET ${http}: ${response.status} ${response.statusText} Output: ${body}`;
    } catch (error) {
      status = "critical";
      output = controller.signal.aborted ? `Get "${http}": context deadline exceeded` : `Get "${http}": ${error instanceof Error ? error.message : error}`;
    } finally {
      clock.clearTimeout(timer);
    }
    if (run.stopped) return;
    store.setStatus(key, status, output);
    run.timer = clock.setTimeout(() => void probe(key, run), run.definition.intervalMs!);
  }

  return {
    start(key, definition) {
      if (definition.ttlMs === undefined && definition.http === undefined) return;
      const run: Running = { definition, stopped: false };
      running.set(key, run);
      if (definition.ttlMs !== undefined) armTtl(key, run);
      // Consul staggers the first run within the interval; the fake runs it at once
      else run.timer = clock.setTimeout(() => void probe(key, run), 0);
    },
    stop(key) {
      const run = running.get(key);
      if (!run) return;
      run.stopped = true;
      if (run.timer !== undefined) clock.clearTimeout(run.timer);
      running.delete(key);
    },
    stopAll() {
      for (const key of [...running.keys()]) this.stop(key);
    },
    ttlUpdate(key, status, output) {
      const run = running.get(key);
      if (!run || run.definition.ttlMs === undefined) return false;
      if (!store.setStatus(key, status, output)) return false;
      armTtl(key, run);
      return true;
    },
  };
}

/** a Go duration as Consul reads it ("10s", "1m30s", "250ms"); undefined when malformed */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}
