// Envoy's outlier detection for one upstream cluster (arch_overview/upstream/outlier.rst,
// source/common/upstream/outlier_detection_impl.cc), with Istio's mapping of its fields
// (pilot cluster_traffic_policy.go applyOutlierDetection). The request path only calls record();
// the interval timer (tick) returns hosts and decays multipliers. The detector owns each host's
// `healthy` flag, which the balancers read.
import type { OutlierDetection } from "../config/types.ts";
import type { UpstreamHost } from "./balancers/host-set.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { compileOutlierSettings } from "./outlier-settings.ts";

export type LocalOriginFailure = "connect-failure" | "reset" | "timeout";
/** one finished attempt: the response status, or why there was none */
export interface OutlierOutcome {
  status?: number;
  localOrigin?: LocalOriginFailure;
}

export interface HostOutlierState {
  address: string;
  ejected: boolean;
  /** ejections over the host's lifetime (Envoy's num_ejections) */
  ejectionCount: number;
  /** the current ejection-time multiplier: grows per ejection, decays while healthy */
  multiplier: number;
  /** clock time the ejection is due to end; the host returns at the first sweep after it */
  ejectedUntil?: number;
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocalOrigin: number;
}

export interface OutlierDetector {
  record(host: UpstreamHost, outcome: OutlierOutcome): void;
  /** the cluster's hosts changed; state carries over by address */
  setHosts(hosts: readonly UpstreamHost[]): void;
  /** the interval sweep; start() runs it every `interval`, tests call it by hand */
  tick(): void;
  /** healthy share below minHealthPercent: every host is marked usable, ejected or not */
  panic(): boolean;
  snapshot(): HostOutlierState[];
  start(): void;
  stop(): void;
}

interface Monitor {
  host: UpstreamHost;
  ejected: boolean;
  ejectedAt: number;
  unejectedAt: number | undefined; // undefined until it first returns
  ejections: number;
  backoff: number; // Envoy's ejectTimeBackoff: the multiplier
  c5xx: number; // the three consecutive-failure counters
  gateway: number;
  local: number;
}

/** settings undefined → no detection (Istio sends Envoy none): record and tick do nothing */
export function createOutlierDetector(settings: OutlierDetection | undefined, clock: Clock): OutlierDetector {
  const enabled = settings !== undefined;
  const c = compileOutlierSettings(settings ?? {});
  const { split, intervalMs: interval, baseEjectionTimeMs: base, maxEjectionTimeMs: maxTime } = c;
  let monitors = new Map<string, Monitor>();
  let ejectedCount = 0;
  let inPanic = false;
  let timer: TimerHandle | undefined;
  const duration = (m: Monitor) => Math.min(base * m.backoff, maxTime);

  /** re-derives panic; rewrites every flag only when panic turns on or off, else just `changed` */
  function applyHealth(changed?: Monitor): void {
    const n = monitors.size;
    const next = c.panicBelowPercent > 0 && n > 0 && (100 * (n - ejectedCount)) / n < c.panicBelowPercent;
    if (next !== inPanic || changed === undefined) {
      inPanic = next;
      for (const m of monitors.values()) m.host.healthy = inPanic || !m.ejected;
    } else changed.host.healthy = inPanic || !changed.ejected;
  }

  function eject(m: Monitor): void {
    if (m.ejected) return;
    // Envoy allows an ejection while (ejected + 1) / hosts stays within maxEjectionPercent. With
    // the 10 % default, a cluster under ten hosts could then eject nothing at all; like Envoy's
    // always_eject_one_host, dietmesh always lets the first host go.
    if (ejectedCount > 0 && (100 * (ejectedCount + 1)) / monitors.size > c.maxEjectionPercent) return;
    ejectedCount++;
    m.ejected = true;
    m.ejectedAt = clock.now();
    m.ejections++;
    // The multiplier stops one step past the cap, so decay starts from there (Envoy's rule).
    if (m.backoff * base < maxTime + base) m.backoff++;
    applyHealth(m);
  }

  function uneject(m: Monitor, now: number): void {
    ejectedCount--;
    m.ejected = false;
    m.unejectedAt = now;
    // Fresh counters, so a host doesn't return one error away from the next ejection.
    m.c5xx = m.gateway = m.local = 0;
    applyHealth(m);
  }

  /** a response status, or a local-origin failure mapped to one */
  function count(m: Monitor, status: number): void {
    if (status < 500 || status > 599) {
      m.c5xx = m.gateway = 0;
      return;
    }
    if (status >= 502 && status <= 504) {
      // Each rule's counter restarts at its threshold whether or not the ejection was allowed.
      if (++m.gateway >= c.consecutiveGateway && c.consecutiveGateway > 0) {
        m.gateway = 0;
        eject(m);
      }
    } else m.gateway = 0;
    if (++m.c5xx >= c.consecutive5xx && c.consecutive5xx > 0) {
      m.c5xx = 0;
      eject(m);
    }
  }

  const detector: OutlierDetector = {
    record(host, outcome) {
      if (!enabled) return;
      const m = monitors.get(host.address);
      // Results from an ejected host (requests in flight, or panic traffic) don't count: its
      // counters restart when it returns anyway.
      if (m === undefined || m.ejected) return;
      if (outcome.localOrigin !== undefined) {
        if (split) {
          if (++m.local >= c.consecutiveLocalOrigin) {
            m.local = 0;
            eject(m);
          }
          return;
        }
        // Unsplit, Envoy folds local failures into the HTTP counters: a failed connect or a
        // reset as 503, a timeout as 504, so both gateway and 5xx rules see them.
        count(m, outcome.localOrigin === "timeout" ? 504 : 503);
        return;
      }
      if (outcome.status === undefined) return;
      if (split) m.local = 0; // a response means the connection itself worked
      count(m, outcome.status);
    },

    setHosts(hosts) {
      const next = new Map<string, Monitor>();
      for (const host of hosts) {
        const m = monitors.get(host.address) ??
          { host, ejected: false, ejectedAt: 0, unejectedAt: undefined, ejections: 0, backoff: 0, c5xx: 0, gateway: 0, local: 0 };
        m.host = host;
        next.set(host.address, m);
      }
      monitors = next;
      ejectedCount = 0;
      for (const m of monitors.values()) if (m.ejected) ejectedCount++;
      applyHealth();
    },

    tick() {
      if (!enabled) return;
      const now = clock.now();
      for (const m of monitors.values()) {
        if (m.ejected) {
          if (now - m.ejectedAt >= duration(m)) uneject(m, now);
        } else if (m.backoff > 0 && m.unejectedAt !== undefined && now - m.unejectedAt >= interval) {
          // In service for a full interval: one step back towards the base ejection time.
          m.backoff--;
        }
      }
    },

    panic: () => inPanic,
    snapshot() {
      return [...monitors.values()].map((m) => ({
        address: m.host.address,
        ejected: m.ejected,
        ejectionCount: m.ejections,
        multiplier: m.backoff,
        ...(m.ejected ? { ejectedUntil: m.ejectedAt + duration(m) } : {}),
        consecutive5xx: m.c5xx,
        consecutiveGateway: m.gateway,
        consecutiveLocalOrigin: m.local,
      }));
    },

    start() {
      if (!enabled || timer !== undefined) return;
      // Re-armed after each sweep, as Envoy does, so a slow sweep never overlaps the next.
      const arm = (): void => void (timer = clock.setTimeout(() => (detector.tick(), arm()), interval));
      arm();
    },
    stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
  return detector;
}
