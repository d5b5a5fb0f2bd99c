// Constant-rate (open-loop) HTTP/1.1 load client for the bench's fixed-rate latency run.
//
// Why our own: Debian 12 packages no constant-rate load tool. wrk2 and vegeta are not packaged; wrk
// (even with a Lua script) and hey are closed-loop: a connection sends its next request only after
// the previous answer (hey's -q just rate-limits that loop). A closed-loop client stops sending while
// the server stalls, so a stall shows up in one sample instead of in every request that should have
// gone out meanwhile ("coordinated omission"), and tail latency is under-reported.
//
// Here the send schedule never waits for the server: request k is due at t0 + k/rate. A timer tick
// (Bun timers have ~1 ms resolution) marks every request due by then with that tick's time as its
// intended send time; it goes out at once on an idle keep-alive connection or, if all are busy, waits
// in a queue with its intended time kept. Latency = response complete - intended send time, so queueing
// behind a slow server is counted. Taking t0 + k/rate itself as the intended time would also charge our
// own timer lag (0-1.1 ms, uniform) to every target; that lag is reported apart as sched_lag_p99_ms.
//
// A warm-up at the same rate (--warmup seconds, not measured) runs first in the same process, so
// that neither the target nor this client is measured cold.
//
// Usage: bun bench/load.ts --url http://127.0.0.1:PORT/ [--host H] [--header 'Name: value' ...]
//        [--rate 1000] [--seconds 10] [--warmup 0] [--connections 16]
// Prints one JSON line: rate, seconds, warmup_seconds, sent, ok, errors (failed or unanswered, warm-up
// included), p50_ms, p90_ms, p99_ms, max_ms, sched_lag_p99_ms.
import { parseArgs } from "node:util";
import type { Socket } from "bun";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    host: { type: "string" },
    header: { type: "string", multiple: true, default: [] },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "0" },
    connections: { type: "string", default: "16" },
  },
});
if (!values.url) throw new Error("--url is required");
const url = new URL(values.url);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warm = Math.round(rate * Number(values.warmup)); // the first `warm` requests are not measured
const total = warm + Math.round(rate * seconds);
const interval = 1000 / rate;
const extra = values.header.map((h) => `${h}\r\n`).join("");
const request = new TextEncoder().encode(
  `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${values.host ?? url.host}\r\nUser-Agent: dietmesh-bench\r\n${extra}\r\n`,
);

type Conn = { socket: Socket | null; buf: string; req: number }; // req: index in flight, or -1
const idle: Conn[] = [];
const queue: number[] = []; // requests due and waiting for a connection
const intended = new Float64Array(total); // each request's intended send time
const lags = new Float64Array(total); // how late our timer made each one due
const latencies: number[] = [];
let scheduled = 0;
let done = 0;
let errors = 0;

// Returns the end offset of the first complete response in buf, or -1.
function responseEnd(buf: string): number {
  const head = buf.indexOf("\r\n\r\n");
  if (head < 0) return -1;
  const headers = buf.slice(0, head).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (length) return buf.length >= head + 4 + Number(length[1]) ? head + 4 + Number(length[1]) : -1;
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(headers)) {
    const end = buf.indexOf("\r\n0\r\n\r\n", head);
    return end < 0 ? (buf.startsWith("0\r\n\r\n", head + 4) ? head + 9 : -1) : end + 7;
  }
  return head + 4; // no body (e.g. 204/304)
}

function finish(conn: Conn, good: boolean): void {
  if (!good) errors++;
  else if (conn.req >= warm) latencies.push(performance.now() - intended[conn.req]);
  conn.req = -1;
  if (++done === total) report();
}

async function open(conn: Conn): Promise<void> {
  conn.socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_s, data) {
        conn.buf += data.toString("latin1");
        const end = responseEnd(conn.buf);
        if (end < 0 || conn.req < 0) return;
        const good = conn.buf.startsWith("HTTP/1.1 2") || conn.buf.startsWith("HTTP/1.0 2");
        const closing = /\r\nconnection:\s*close/i.test(conn.buf.slice(0, conn.buf.indexOf("\r\n\r\n")));
        conn.buf = conn.buf.slice(end);
        finish(conn, good);
        if (!closing) idle.push(conn); // else close() below reconnects it
        dispatch();
      },
      close() {
        // The server closed the connection: a request in flight on it failed. Reconnect.
        const i = idle.indexOf(conn);
        if (i >= 0) idle.splice(i, 1);
        conn.socket = null;
        conn.buf = "";
        if (conn.req >= 0) finish(conn, false);
        if (!reported) void open(conn).then(() => { idle.push(conn); dispatch(); }, () => {});
      },
      error() {},
    },
  });
}

function dispatch(): void {
  while (queue.length && idle.length) {
    const conn = idle.pop()!;
    conn.req = queue.shift()!;
    conn.socket!.write(request);
  }
}

function tick(): void {
  const now = performance.now();
  while (scheduled < total && t0 + scheduled * interval <= now) {
    lags[scheduled] = now - (t0 + scheduled * interval);
    intended[scheduled] = now;
    queue.push(scheduled++);
  }
  dispatch();
  if (scheduled < total) setTimeout(tick, Math.max(0, t0 + scheduled * interval - performance.now()));
}

function pct(sorted: Float64Array, q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
}

let reported = false;
function report(): void {
  if (reported) return;
  reported = true;
  const lat = Float64Array.from(latencies).sort();
  const r = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    rate, seconds, warmup_seconds: Number(values.warmup), sent: scheduled - warm, ok: lat.length,
    errors: errors + (total - done), // failed, or never answered within the drain time
    p50_ms: r(pct(lat, 0.5)), p90_ms: r(pct(lat, 0.9)), p99_ms: r(pct(lat, 0.99)), max_ms: r(lat[lat.length - 1] ?? NaN),
    sched_lag_p99_ms: r(pct(lags.slice(warm, scheduled).sort(), 0.99)),
  }));
  process.exit(0);
}

const conns: Conn[] = Array.from({ length: Number(values.connections) }, () => ({ socket: null, buf: "", req: -1 }));
await Promise.all(conns.map(open));
idle.push(...conns);
const t0 = performance.now();
tick();
setTimeout(report, (total / rate) * 1000 + 5000); // drain: whatever is unanswered 5 s after the last send is an error
