// Resident memory and open file descriptors of each soak process, read from /proc at an interval,
// and the two growth verdicts over the samples taken after warm-up, first third against last:
//  - RSS: the median of the last third against the median of the first; more than the allowed
//    share (10 %) is growth. Medians, so that a few samples taken mid-collection do not decide.
//  - fds other than established TCP connections (files, pipes, listeners, timers, and sockets
//    whose peer has closed — CLOSE_WAIT, the state a connection the process forgot to close ends
//    in once the other side's idle timeout closes it): the fewest in the last third against the
//    most in the first, plus a tolerance of max(4, 10 %); a leak raises every late sample above
//    every early one.
//  - established connections are judged against a bound instead (--max-connections, from the
//    load's concurrency): a pool's size follows the load's concurrency, and a burst can leave it at
//    a new high-water mark that it keeps while the load goes on (seen in CI: a sidecar 47 → 62 fds
//    in one step, then flat; another 77 → 43), so a step is not a leak. A per-request leak of live
//    connections passes any such bound within a second at the soak's rates.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Sample {
  atMs: number;
  rssKb: number;
  fds: number;
  /** of those fds, TCP sockets in ESTABLISHED */
  connections: number;
}

export interface Verdict {
  name: string;
  pid: number;
  samples: number;
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  rssGrowthPct: number;
  /** fds other than established connections: most in the first third, fewest in the last */
  fdsStart: number;
  fdsEnd: number;
  maxConnections: number;
  connectionsOk: boolean;
  rssOk: boolean;
  fdsOk: boolean;
}

/** the socket inodes of every ESTABLISHED TCP connection on this host (IPv4 and IPv6); read once per round of samples */
export function establishedSockets(): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === "01") inodes.add(cols[9]); // st 01 = ESTABLISHED; column 9 = inode
    }
  }
  return inodes;
}

export function sample(pid: number, atMs: number, established: Set<string>): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const fds = readdirSync(`/proc/${pid}/fd`);
    let connections = 0;
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && established.has(m[1])) connections++;
      } catch {
        // closed between the listing and the read
      }
    }
    return { atMs, rssKb, fds: fds.length, connections };
  } catch {
    return undefined; // the process is gone; the soak notices its exit separately
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** samples: this process's, taken after warm-up, in order */
export function verdict(name: string, pid: number, samples: Sample[], maxRssGrowthPct: number, connectionBound: number): Verdict {
  const n = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(0, n);
  const last = samples.slice(-n);
  const rssStart = median(first.map((s) => s.rssKb));
  const rssEnd = median(last.map((s) => s.rssKb));
  const growth = ((rssEnd - rssStart) / rssStart) * 100;
  const fdsStart = Math.max(...first.map((s) => s.fds - s.connections));
  const fdsEnd = Math.min(...last.map((s) => s.fds - s.connections));
  const maxConnections = Math.max(...samples.map((s) => s.connections));
  return {
    name, pid, samples: samples.length,
    rssStartMb: mb(rssStart), rssEndMb: mb(rssEnd), rssMaxMb: mb(Math.max(...samples.map((s) => s.rssKb))),
    rssGrowthPct: Math.round(growth * 10) / 10,
    fdsStart, fdsEnd, maxConnections,
    connectionsOk: maxConnections <= connectionBound,
    rssOk: samples.length >= 2 && growth < maxRssGrowthPct,
    fdsOk: samples.length >= 2 && fdsEnd <= fdsStart + Math.max(4, Math.ceil(fdsStart / 10)),
  };
}
