// Closed-loop TCP load for the bench's TCP rows: --connections long-lived connections, each sending a
// 64-byte message and waiting for its echo before the next (a request/response protocol's shape, as
// Redis or MySQL clients use a connection), for --seconds after --warmup. What a TCP proxy pays per
// message relayed both ways, without HTTP. Round-trip latency is measured per message.
// Usage: bun bench/tcp-load.ts --target HOST:PORT [--connections 50] [--seconds 8] [--warmup 2]
// Prints one JSON line: connections, seconds, messages, per_s, p50_ms, p90_ms, p99_ms, errors.
import { parseArgs } from "node:util";
import type { Socket } from "bun";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    connections: { type: "string", default: "50" },
    seconds: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
  },
});
if (!values.target) throw new Error("--target HOST:PORT is required");
const [host, port] = values.target.split(":");
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const MESSAGE = new Uint8Array(64).fill(120);

let measuring = false;
let stopped = false;
let messages = 0;
let errors = 0;
const samples: number[] = [];

interface State { sent: number; got: number }

function open(): Promise<void> {
  return new Promise((resolve) => {
    void Bun.connect<State>({
      hostname: host,
      port: Number(port),
      socket: {
        open(socket) {
          socket.setNoDelay(true);
          socket.data = { sent: performance.now(), got: 0 };
          socket.write(MESSAGE);
          resolve();
        },
        data(socket, bytes) {
          const state = socket.data;
          state.got += bytes.byteLength;
          if (state.got < MESSAGE.byteLength) return;
          const now = performance.now();
          if (measuring) {
            messages++;
            if (samples.length < 2_000_000) samples.push(now - state.sent);
          }
          state.got -= MESSAGE.byteLength;
          if (stopped) return void socket.end();
          state.sent = now;
          socket.write(MESSAGE);
        },
        close() {
          if (!stopped) errors++;
        },
        connectError() {
          errors++;
          resolve();
        },
      },
    });
  });
}

await Promise.all(Array.from({ length: connections }, open));
await Bun.sleep(warmup * 1000);
measuring = true;
const started = performance.now();
await Bun.sleep(seconds * 1000);
measuring = false;
const elapsed = (performance.now() - started) / 1000;
stopped = true;
samples.sort((a, b) => a - b);
const at = (q: number) => (samples.length ? Number(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(3)) : null);
console.log(JSON.stringify({ connections, seconds, messages, per_s: Math.round(messages / elapsed), p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), errors }));
process.exit(0);
