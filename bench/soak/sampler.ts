// Resident memory and open file descriptors of each soak process, read from /proc at an interval,
// and the two growth verdicts over the samples taken after warm-up, first third against last:
//  - RSS: the median of the last third against the median of the first; more than the allowed
//    share (10 %) is growth. Medians, so that a few samples taken mid-collection do not decide.
//  - fds: the fewest open in the last third against the most open in the first, plus a tolerance
//    of max(4, 10 %); a leak raises every late sample above every early one and keeps rising,
//    while a pool that opens and closes connections as the load's concurrency moves (seen: 39 to
//    75 and back within a minute) does not, and a pool's new high-water mark (a few connections
//    opened in a burst and kept idle) stays within the tolerance.
import { readdirSync, readFileSync } from "node:fs";

export interface Sample {
  atMs: number;
  rssKb: number;
  fds: number;
}

export interface Verdict {
  name: string;
  pid: number;
  samples: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  rssGrowthPct: number;
  fdsStart: number;
  fdsEnd: number;
  rssOk: boolean;
  fdsOk: boolean;
}

export function sample(pid: number, atMs: number): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    return { atMs, rssKb, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined; // the process is gone; the soak notices its exit separately
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** samples: this process's, taken after warm-up, in order */
export function verdict(name: string, pid: number, samples: Sample[], maxRssGrowthPct: number): Verdict {
  const n = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(0, n);
  const last = samples.slice(-n);
  const rssStart = median(first.map((s) => s.rssKb));
  const rssEnd = median(last.map((s) => s.rssKb));
  const growth = ((rssEnd - rssStart) / rssStart) * 100;
  const fdsStart = Math.max(...first.map((s) => s.fds));
  const fdsEnd = Math.min(...last.map((s) => s.fds));
  return {
    name, pid, samples: samples.length,
    rssStartMb: mb(rssStart), rssEndMb: mb(rssEnd), rssMaxMb: mb(Math.max(...samples.map((s) => s.rssKb))),
    rssGrowthPct: Math.round(growth * 10) / 10,
    fdsStart, fdsEnd,
    rssOk: samples.length >= 2 && growth < maxRssGrowthPct,
    fdsOk: samples.length >= 2 && fdsEnd <= fdsStart + Math.max(4, Math.ceil(fdsStart / 10)),
  };
}
