// Shared setup for the outlier-detector tests: hosts, a detector on a fake clock, small helpers.
import type { OutlierDetection } from "../../runtime/config/types.ts";
import { createHost, type UpstreamHost } from "../../runtime/resilience/balancers/index.ts";
import { createFakeClock, type FakeClock } from "../../runtime/lib/clock.ts";
import { createOutlierDetector, type OutlierOutcome } from "../../runtime/resilience/outlier-detector.ts";

/** one second, in the milliseconds everything here is measured in */
export const S = 1000;
export function hosts(n: number): UpstreamHost[] {
  return Array.from({ length: n }, (_, i) => createHost({ address: `10.0.0.${i + 1}`, ports: {}, labels: {}, ready: true }, 8080));
}
/** a detector over n hosts, started, on a fake clock at 0 */
export function setup(settings: OutlierDetection | undefined, n = 10) {
  const clock = createFakeClock();
  const hs = hosts(n);
  const d = createOutlierDetector(settings, clock);
  d.setHosts(hs);
  d.start();
  const hit = (h: UpstreamHost, outcome: OutlierOutcome, times = 1) => {
    for (let i = 0; i < times; i++) d.record(h, outcome);
  };
  const state = (h: UpstreamHost) => d.snapshot().find((s) => s.address === h.address)!;
  return { clock, hs, d, hit, state };
}
/** advances to absolute time t (ms) */
export const at = (clock: FakeClock, t: number) => clock.advance(t - clock.now());

