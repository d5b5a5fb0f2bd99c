// Samples readings (this proxy's, and its peers' over HTTP) once per interval while anyone watches,
// and turns the oldest and newest sample of a short window into a Snapshot. Nothing runs on the
// request path and nothing runs at all while no one is connected: the timer starts with the first
// subscriber and stops with the last one.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Reading } from "./dashboard-reading.ts";
import { computeSnapshot, type Sample, type Snapshot } from "./dashboard-snapshot.ts";

export interface DashboardFeedOptions {
  /** this proxy's reading now */
  local: () => Reading | Promise<Reading>;
  /** other proxies' readings (their GET /dashboard/reading.json); a rejection marks one down */
  peers?: { origin: string; read: () => Promise<Reading> }[];
  clock: Clock;
  /** default 1000 ms */
  intervalMs?: number;
  /** rates span about this much: the oldest sample kept is this old or a little older (default 5000 ms) */
  windowMs?: number;
}

export interface DashboardFeed {
  /** a snapshot now; samples first unless a sample is fresh (an interval old at most) */
  snapshot(): Promise<Snapshot>;
  /** called with a snapshot every interval (and at once); returns the unsubscribe function */
  subscribe(listener: (snapshot: Snapshot) => void): () => void;
  readonly watching: number;
}

interface Timed {
  at: number;
  sample: Sample;
}

export function createDashboardFeed(options: DashboardFeedOptions): DashboardFeed {
  const { clock } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const windowMs = options.windowMs ?? 5000;
  const peers = options.peers ?? [];
  const history: Timed[] = [];
  const lastGood = new Map<string, Reading>();
  const listeners = new Set<(s: Snapshot) => void>();
  let timer: TimerHandle | undefined;
  let inFlight: Promise<Snapshot> | undefined;
  /** the tick loop runs (a sample in flight or the next one armed) */
  let looping = false;
  let latest: Snapshot | undefined;

  async function take(): Promise<Snapshot> {
    const failed: Record<string, string> = {};
    const peerReadings = await Promise.all(peers.map(async (p) => {
      try {
        const r = await p.read();
        lastGood.set(p.origin, r);
        return r;
      } catch (error) {
        failed[p.origin] = String((error as Error)?.message ?? error);
        return lastGood.get(p.origin) ?? emptyReading(p.origin);
      }
    }));
    const at = clock.now();
    history.push({ at, sample: { readings: [await options.local(), ...peerReadings], failed } });
    // rates span from the oldest sample kept: the newest one at least windowMs old
    while (history.length > 2 && history[1].at <= at - windowMs) history.shift();
    if (history.length === 2 && history[0].at < at - 60_000) history.shift();
    return computeSnapshot(history.length > 1 ? history[0].sample : undefined, history[history.length - 1].sample, at);
  }

  /** one sampling at a time: a slow peer makes a tick late, never doubled */
  function sampleOnce(): Promise<Snapshot> {
    inFlight ??= take().finally(() => (inFlight = undefined));
    return inFlight;
  }

  function tick() {
    timer = undefined;
    void sampleOnce().then(
      (s) => {
        latest = s;
        listeners.forEach((l) => l(s));
      },
      () => {},
    ).finally(() => {
      if (listeners.size) timer = clock.setTimeout(tick, intervalMs);
      else looping = false;
    });
  }

  return {
    async snapshot() {
      const last = history[history.length - 1];
      if (last && clock.now() - last.at < intervalMs && history.length > 1) {
        return computeSnapshot(history[0].sample, last.sample, last.at);
      }
      return sampleOnce();
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!looping) {
        looping = true;
        tick();
      } else if (latest) listener(latest);
      return () => {
        listeners.delete(listener);
        if (!listeners.size && timer !== undefined) {
          clock.clearTimeout(timer);
          timer = undefined;
          looping = false;
        }
      };
    },
    get watching() {
      return listeners.size;
    },
  };
}

/** a peer never read yet: a node with no traffic, named by its address */
function emptyReading(origin: string): Reading {
  return { origin, self: { id: `peer:${origin}`, name: origin, namespace: "", kind: "unknown" }, at: 0, bounds: [], edges: [], clusters: [] };
}
