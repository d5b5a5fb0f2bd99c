// Watching a writer that a proxy or a paused socket should hold back: how much it handed the
// kernel, whether it waits for a drain, and what the kernel's loopback queues hold — counts of
// bytes, not times (test/e2e/stream-backpressure.test.ts, test/platform/tls-read-pause.test.ts).
import type { Socket } from "node:net";
import { readFileSync } from "node:fs";
import { eventually } from "./mesh.ts";

/** what the writer writes at a time */
export const WRITER_CHUNK = 64 * 1024;
const chunk = new Uint8Array(WRITER_CHUNK).fill(0x62);

/**
 * pushes up to `total` bytes; `stuck()` says whether it waits for a drain that has not come.
 * `inKernel()` is exact to one WRITER_CHUNK only: Bun's node:net counts writableLength in whole
 * chunks, so a chunk the kernel took part of still counts whole (CI once saw the queues hold 33 KB
 * more than inKernel said; inKernel was a multiple of 64 KiB).
 */
export function writer(socket: Socket, total: number) {
  let pushed = 0;
  let waiting = false;
  const more = () => {
    waiting = false;
    while (pushed < total) {
      pushed += chunk.byteLength;
      if (!socket.write(chunk)) {
        waiting = true;
        return void socket.once("drain", more);
      }
    }
  };
  return { more, stuck: () => waiting, inKernel: () => pushed - socket.writableLength, pushed: () => pushed };
}

/** 127.0.0.1 as /proc/net/tcp spells it */
const LOOPBACK_V4 = "0100007F";

/**
 * tx + rx queue bytes of the established sockets between 127.0.0.1 and 127.0.0.1:port for a port
 * in `ports`. Only IPv4 loopback counts: the listeners here are on 127.0.0.1, which no other
 * IPv4 socket can share a port with, while a suite running beside this one may hold a ::1 socket
 * whose ephemeral port has the same number (CI once counted 226 KB of someone else's queue).
 */
export function kernelQueued(ports: number[]): number {
  let sum = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[3] !== "01") continue;
    const [localAddress, localPort] = f[1].split(":");
    const [remoteAddress, remotePort] = f[2].split(":");
    if (localAddress !== LOOPBACK_V4 || remoteAddress !== LOOPBACK_V4) continue;
    if (!ports.includes(parseInt(localPort, 16)) && !ports.includes(parseInt(remotePort, 16))) continue;
    const [tx, rx] = f[4].split(":").map((h) => parseInt(h, 16));
    sum += tx + rx;
  }
  return sum;
}

/**
 * How long the kernel's queues must read the same before they count as settled. A sender's queue
 * counts bytes until they are acknowledged, and the receiver's counts them once they arrive, so
 * while acknowledgements are still on their way (delayed, or a window update) the same bytes sit
 * in both: two equal reads 25 ms apart once showed the queues 0.9 MB above what the writer had
 * given the kernel, and the same queues 500 ms later 0.2 MB below it (Bun, 3 runs in 30).
 */
const QUIET_MS = 300;

/**
 * waits until the writer is stuck (or has pushed everything: no backpressure) and the kernel's
 * queues have read the same for QUIET_MS (and hold at least minQueued bytes)
 */
export async function settled(w: ReturnType<typeof writer>, total: number, ports: number[], minQueued = 0): Promise<number> {
  let last = -1;
  let since = 0;
  return eventually(async () => {
    if (!w.stuck() && w.pushed() < total) return (last = -1), false;
    const now = kernelQueued(ports);
    // a reader that takes everything leaves the queues near empty whenever it looks: not settled
    if (now < minQueued && w.pushed() < total) return (last = -1), false;
    if (now !== last) {
      last = now;
      since = Date.now();
      return false;
    }
    return Date.now() - since >= QUIET_MS ? now + 1 : false; // +1: a truthy value even when nothing is queued
  }, 15_000, "the writer to be stuck").then((n) => n - 1);
}
