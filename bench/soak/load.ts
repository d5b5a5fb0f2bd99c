// Open-loop HTTP/1.1 load for the soak: request k is due at t0 + k/rate whatever the server does
// (bench/load.ts explains why a closed loop hides stalls), over a fixed set of keep-alive
// connections; a request due while all are busy waits in a queue. Unlike the bench's client it
// checks every answer (status, and a body check per target: the spelling service answers 200 with
// "?" for a letter it could not get), counts failures by reason, and keeps the first few.
// node:net, so it runs on Bun and on Deno.
import { connect, type Socket } from "node:net";

export interface Target {
  name: string;
  host: string;
  path: string;
  /** share of the requests, relative to the other targets' */
  weight: number;
  /** true when a 200's body is right */
  bodyOk?: (body: string) => boolean;
}

export interface LoadStats {
  sent: number;
  ok: number;
  failed: number;
  /** failures by reason ("status 503", "closed", "timeout", "body", "connect") */
  reasons: Record<string, number>;
  /** the first failures: when (ms since start), which target, why */
  examples: { atMs: number; target: string; reason: string }[];
  inFlight: number;
  queued: number;
}

interface Conn {
  socket: Socket | null;
  buf: Buffer;
  /** the request in flight: its target and deadline timer */
  req: { target: Target; timer: ReturnType<typeof setTimeout> } | null;
}

export interface Load {
  stats: LoadStats;
  /** stops sending; resolves once every request sent has an outcome (or timed out) */
  stop(): Promise<void>;
}

/** the end of the first complete response in buf: status, body and its end; undefined if incomplete */
function parse(buf: Buffer): { status: number; body: string; end: number; close: boolean } | undefined {
  const head = buf.indexOf("\r\n\r\n");
  if (head < 0) return undefined;
  const text = buf.subarray(0, head).toString("latin1");
  const status = Number(text.slice(9, 12));
  const close = /\r\nconnection:\s*close/i.test(text);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
  if (length) {
    const end = head + 4 + Number(length[1]);
    return buf.length >= end ? { status, body: buf.subarray(head + 4, end).toString(), end, close } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(text)) {
    let at = head + 4;
    const parts: Buffer[] = [];
    for (;;) {
      const nl = buf.indexOf("\r\n", at);
      if (nl < 0) return undefined;
      const size = parseInt(buf.subarray(at, nl).toString("latin1"), 16);
      if (size === 0) {
        const end = buf.indexOf("\r\n\r\n", nl);
        return end < 0 ? undefined : { status, body: Buffer.concat(parts).toString(), end: end + 4, close };
      }
      if (buf.length < nl + 2 + size + 2) return undefined;
      parts.push(buf.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
  }
  return { status, body: "", end: head + 4, close };
}

export function startLoad(options: { address: string; targets: Target[]; rate: number; connections: number; timeoutMs: number }): Load {
  const [hostname, port] = [options.address.slice(0, options.address.lastIndexOf(":")), Number(options.address.slice(options.address.lastIndexOf(":") + 1))];
  const stats: LoadStats = { sent: 0, ok: 0, failed: 0, reasons: {}, examples: [], inFlight: 0, queued: 0 };
  const t0 = performance.now();
  // the targets' weights as a repeating sequence, so each gets its share exactly
  const sequence = options.targets.flatMap((t) => Array.from({ length: t.weight }, () => t));
  const requests = new Map(options.targets.map((t) => [t, Buffer.from(`GET ${t.path} HTTP/1.1\r\nHost: ${t.host}\r\nUser-Agent: dietmesh-soak\r\n\r\n`)]));
  const idle: Conn[] = [];
  const queue: Target[] = [];
  let scheduled = 0;
  let stopping = false;
  let drained: (() => void) | undefined;

  const outcome = (target: Target, reason: string | undefined) => {
    stats.inFlight--;
    if (!reason) stats.ok++;
    else {
      stats.failed++;
      stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
      if (stats.examples.length < 20) stats.examples.push({ atMs: Math.round(performance.now() - t0), target: target.name, reason });
    }
    if (stopping && stats.inFlight === 0 && !queue.length) drained?.();
  };

  const fail = (conn: Conn, reason: string) => {
    if (conn.req) {
      clearTimeout(conn.req.timer);
      const { target } = conn.req;
      conn.req = null;
      outcome(target, reason);
    }
  };

  function open(conn: Conn): void {
    const socket = connect({ host: hostname, port });
    conn.socket = socket;
    conn.buf = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      idle.push(conn);
      dispatch();
    });
    socket.on("data", (chunk: Buffer) => {
      conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
      const r = parse(conn.buf);
      if (!r) return;
      conn.buf = conn.buf.subarray(r.end);
      if (!conn.req) return; // an answer nobody asked for: the close that follows reconnects
      const { target, timer } = conn.req;
      clearTimeout(timer);
      conn.req = null;
      outcome(target, r.status !== 200 ? `status ${r.status}` : target.bodyOk && !target.bodyOk(r.body) ? "body" : undefined);
      if (r.close) socket.end();
      else {
        idle.push(conn);
        dispatch();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      fail(conn, "closed");
      if (conn.socket === socket && !stopping) setTimeout(() => open(conn), 10);
    });
  }

  function dispatch(): void {
    while (queue.length && idle.length) {
      const conn = idle.pop()!;
      const target = queue.shift()!;
      stats.queued = queue.length;
      conn.req = {
        target,
        timer: setTimeout(() => {
          fail(conn, "timeout");
          conn.socket?.destroy();
        }, options.timeoutMs),
      };
      conn.socket!.write(requests.get(target)!);
    }
  }

  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  function tick(): void {
    const now = performance.now();
    const interval = 1000 / options.rate;
    while (t0 + scheduled * interval <= now) {
      queue.push(sequence[scheduled++ % sequence.length]);
      stats.sent++;
      stats.inFlight++;
    }
    stats.queued = queue.length;
    dispatch();
    tickTimer = setTimeout(tick, Math.max(0, t0 + scheduled * interval - performance.now()));
  }

  const conns: Conn[] = Array.from({ length: options.connections }, () => ({ socket: null, buf: Buffer.alloc(0), req: null }));
  conns.forEach(open);
  tick();

  return {
    stats,
    stop() {
      stopping = true;
      clearTimeout(tickTimer);
      return new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(limit);
          for (const c of conns) c.socket?.destroy();
          resolve();
        };
        // whatever is still queued or in flight after the timeout failed
        const limit = setTimeout(() => {
          for (const t of queue.splice(0)) outcome(t, "timeout");
          for (const c of conns) fail(c, "timeout");
          finish();
        }, options.timeoutMs + 1000);
        drained = finish;
        if (stats.inFlight === 0) finish();
      });
    },
  };
}

/** one request on a new connection (Deno's fetch will not send a chosen Host): true when the
 * target answers 200 with a right body */
export function probe(address: string, target: Target, timeoutMs = 2000): Promise<boolean> {
  const at = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    let buf = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write(`GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`));
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const r = parse(buf);
      if (r) done(r.status === 200 && (!target.bodyOk || target.bodyOk(r.body)));
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}
