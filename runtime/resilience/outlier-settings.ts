// A DestinationRule's outlierDetection as the numbers the detector runs on, with Envoy's defaults
// filled in the way Istio's translation leaves them (pilot cluster_traffic_policy.go
// applyOutlierDetection; Envoy outlier_detection.proto). Pure, so each mapping is testable alone.
import type { OutlierDetection } from "../config/types.ts";

/** Envoy's defaults; Istio leaves them in place when a field is unset (or 0 where noted) */
export const OUTLIER_DEFAULTS = Object.freeze({
  consecutive5xxErrors: 5,
  consecutiveLocalOriginFailures: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
});

export interface OutlierConfig {
  /** thresholds; 0 turns the rule off */
  consecutive5xx: number;
  consecutiveGateway: number;
  /** only counted apart (and only used) when splitExternalLocalOriginErrors is on */
  consecutiveLocalOrigin: number;
  split: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  /** healthy share (%) below which the cluster is in panic; 0 = never */
  panicBelowPercent: number;
}

const positive = (v: number | undefined): v is number => v !== undefined && v > 0;

export function compileOutlierSettings(s: OutlierDetection): OutlierConfig {
  // Deprecated consecutiveErrors counted gateway errors only and switched the 5xx rule off
  // (Istio 1.x applyOutlierDetection, istio/api#617); the newer fields win when also given.
  const legacy = positive(s.consecutiveErrors) ? s.consecutiveErrors : 0;
  const split = s.splitExternalLocalOriginErrors === true;
  const base = positive(s.baseEjectionTime) ? s.baseEjectionTime : OUTLIER_DEFAULTS.baseEjectionTimeMs;
  return {
    consecutive5xx: s.consecutive5xxErrors ?? (legacy > 0 ? 0 : OUTLIER_DEFAULTS.consecutive5xxErrors),
    consecutiveGateway: s.consecutiveGatewayErrors ?? legacy,
    // Istio sets Envoy's consecutive_local_origin_failure only when > 0; Envoy's default is 5.
    consecutiveLocalOrigin: split
      ? positive(s.consecutiveLocalOriginFailures) ? s.consecutiveLocalOriginFailures : OUTLIER_DEFAULTS.consecutiveLocalOriginFailures
      : 0,
    split,
    intervalMs: positive(s.interval) ? s.interval : OUTLIER_DEFAULTS.intervalMs,
    baseEjectionTimeMs: base,
    // Envoy's max_ejection_time defaults to 300 s, or base when that is larger; Istio doesn't
    // expose the field.
    maxEjectionTimeMs: Math.max(OUTLIER_DEFAULTS.maxEjectionTimeMs, base),
    // Istio passes maxEjectionPercent only when > 0, so 0 means Envoy's 10 %.
    maxEjectionPercent: positive(s.maxEjectionPercent) ? Math.min(100, s.maxEjectionPercent) : OUTLIER_DEFAULTS.maxEjectionPercent,
    // Istio sets healthy_panic_threshold to minHealthPercent, 0 by default: panic mode off.
    panicBelowPercent: positive(s.minHealthPercent) ? Math.min(100, s.minHealthPercent) : 0,
  };
}
