// Memory under streaming (issue 15 item 12): a gateway on the runtime running this script, an
// upstream and a client in this process on loopback. After a warm request the gateway's idle RSS is
// read; then a large request body goes up (the upstream reads slowly) and a large response body
// comes down (the client reads slowly), both generated from one reused chunk, while the gateway's
// VmRSS is sampled every 100 ms. Prints idle, max and max/idle per direction. Backpressure working
// means the proxy stops reading the fast side while the slow side's socket is full, so the peak
// does not depend on the body's size.
// Usage: bun|deno run -A bench/memory/stream-rss.ts [--mib 1024] [--rate-mib 96] [--mode up,down]
//   [--flags "--smol"] (runtime flags for the gateway process, e.g. Deno's "--v8-flags=...")
//   [--tls] (the client speaks HTTPS to a Gateway port 443 server, SIMPLE, a throwaway certificate)
//   [--streams N] (N bodies of --mib each at once, each side at --rate-mib, on N connections)
//   [--warm-mib N] (before idle is read, one N MiB upload and one download: idle then includes what
//   the process keeps once it has streamed — code pages, the allocators' pools — so the ratio shows
//   only what a stream adds; the default 0 reads idle after one small GET, as the issue measured it)
import { createServer, connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { cli, startGateway, stopAll, tempConfig, serviceEntry } from "../../test/support/mesh.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { pauseReads, resumeReads } from "../../runtime/platform/socket-reads.ts";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const MIB = 1024 * 1024;
const bodyBytes = Number(arg("mib", "1024")) * MIB;
const rate = Number(arg("rate-mib", "96")) * MIB; // the slow reader's bytes per second
const modes = arg("mode", "up,down").split(",");
const chunk = new Uint8Array(64 * 1024).fill(0x61);
const useTls = process.argv.includes("--tls");
const streams = Number(arg("streams", "1"));

/** keeps a socket's reading to about `perSecond`: pauses for the rest of each 50 ms window */
export function throttle(socket: Socket, perSecond: number, onBytes: (n: number) => void): void {
  const perWindow = perSecond / 20;
  let windowStart = Date.now();
  let used = 0;
  socket.on("data", (data: Uint8Array) => {
    onBytes(data.byteLength);
    used += data.byteLength;
    if (used < perWindow) return;
    pauseReads(socket); // a plain pause() does not stop Deno's TLS socket reading (socket-reads.ts)
    const wait = Math.max(0, windowStart + 50 - Date.now());
    setTimeout(() => {
      windowStart = Date.now();
      used = 0;
      resumeReads(socket);
    }, wait);
  });
}

/** writes `total` bytes of the reused chunk, waiting for drain whenever write says so */
export function pump(socket: Socket, total: number, done: () => void): void {
  let left = total;
  const more = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.byteLength);
      left -= n;
      if (!socket.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) return void socket.once("drain", more);
    }
    done();
  };
  more();
}

/** reads one head off a socket: its text and the bytes after it; later bytes go to whoever listens next */
export function onHead(socket: Socket, head: (text: string, rest: Uint8Array) => void): void {
  let seen = new Uint8Array(0);
  const listener = (data: Uint8Array) => {
    const joined = new Uint8Array(seen.byteLength + data.byteLength);
    joined.set(seen);
    joined.set(data, seen.byteLength);
    const text = new TextDecoder("latin1").decode(joined);
    const end = text.indexOf("\r\n\r\n");
    if (end === -1) return void (seen = joined);
    socket.off("data", listener);
    head(text.slice(0, end), joined.subarray(end + 4));
  };
  socket.on("data", listener);
}

/** The upstream: POST /up is read slowly and answered "ok"; GET /down?bytes=N sends N bytes fast. */
export function startUpstream(perSecond: number): Promise<{ port: number; close(): void; received(): number }> {
  let received = 0;
  const server = createServer((socket) => {
    const serve = () =>
      onHead(socket, (head, rest) => {
        const [method, target] = head.split(" ");
        if (method === "GET") {
          const bytes = Number(/bytes=(\d+)/.exec(target)?.[1] ?? "0");
          // one write for a small answer: two small writes meet Nagle and delayed ACKs (40 ms)
          if (!target.includes("bytes=")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          else {
            socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${bytes}\r\n\r\n`);
            pump(socket, bytes, () => {});
          }
          serve();
          return;
        }
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? "0");
        let got = rest.byteLength;
        received += got;
        const finish = () => {
          socket.removeAllListeners("data");
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          serve();
        };
        if (got >= length) return finish();
        throttle(socket, perSecond, (n) => {
          got += n;
          received += n;
          if (got >= length) finish();
        });
      });
    serve();
    socket.on("error", () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: (server.address() as { port: number }).port, close: () => server.close(), received: () => received }),
    ),
  );
}

/** the Gateway "stream-gateway": port 80 for stream.example, and with tlsDir an HTTPS port 443 (SIMPLE, that folder's tls.crt and tls.key) */
export function streamGateway(tlsDir?: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: stream-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 80, name: http, protocol: HTTP }, hosts: ["stream.example"] }${tlsDir ? `
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: ["stream.example"]
    tls: { mode: SIMPLE, serverCertificate: ${tlsDir}/tls.crt, privateKey: ${tlsDir}/tls.key }` : ""}`;
}

/** the tiny config: one Gateway on port 80 for stream.example, routed to the upstream */
export function gatewayConfig(upstreamPort: number, tlsDir?: string): Promise<string> {
  return tempConfig({
    "stream.yaml": `${streamGateway(tlsDir)}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: stream }
spec:
  hosts: ["stream.example"]
  gateways: [stream-gateway]
  http: [{ route: [{ destination: { host: stream.default.svc.cluster.local, port: { number: 8080 } } }] }]
---
${serviceEntry("stream", "stream.default.svc.cluster.local", [{ address: `127.0.0.1:${upstreamPort}` }])}`,
  });
}

/** one request through the gateway; resolves with the response's status line and body byte count */
export function exchange(address: string, head: string, upload: number, perSecond: number, tls = false): Promise<{ status: string; bytes: number }> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const start = () => {
      socket.write(head);
      if (upload > 0) pump(socket, upload, () => {});
    };
    const socket: Socket = tls
      ? tlsConnect({ host, port: Number(port), servername: "stream.example", rejectUnauthorized: false }, start)
      : connect(Number(port), host, start);
    socket.on("error", reject);
    onHead(socket, (text, rest) => {
      const status = text.split("\r\n")[0];
      const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? "0");
      let bytes = rest.byteLength;
      const end = () => {
        socket.destroy();
        resolve({ status, bytes });
      };
      if (bytes >= length) return end();
      throttle(socket, perSecond, (n) => {
        bytes += n;
        if (bytes >= length) end();
      });
    });
  });
}

/** user + system CPU seconds the process has used (clock ticks of /proc/PID/stat, 100 per second) */
export function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** the gateway as startGateway starts it, with runtime flags before the script */
async function startWithFlags(config: string, runtime: string, flags: string[], extra: string[]) {
  const pre = runtime === "bun" ? flags : ["run", "-A", "--quiet", ...flags];
  const child = runCommand(process.execPath, [...pre, cli, "gateway", "--config", config, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", ...extra]);
  const [, port80] = await child.waitFor(/gateway port 80 listening on (\S+)/);
  await child.waitFor(/ready on /);
  return { child, port80 };
}

/** a throwaway self-signed certificate for stream.example (openssl), in a new temp folder */
export async function throwawayCert(): Promise<string> {
  const dir = mkdtempSync(`${tmpdir()}/stream-rss-`);
  const child = runCommand("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=stream.example", "-addext", "subjectAltName=DNS:stream.example", "-keyout", `${dir}/tls.key`, "-out", `${dir}/tls.crt`]);
  if ((await child.exited) !== 0) throw new Error("openssl failed");
  return dir;
}

if (import.meta.main) {
  const runtime = "Bun" in globalThis ? "bun" : "deno";
  const upstream = await startUpstream(rate);
  const config = await gatewayConfig(upstream.port, useTls ? await throwawayCert() : undefined);
  const flags = arg("flags", "").split(" ").filter(Boolean);
  const extra = useTls ? ["--bind", "443=127.0.0.1:0"] : [];
  const gateway = flags.length ? await startWithFlags(config, runtime, flags, extra) : await startGateway(config, extra);
  const pid = gateway.child.pid;
  const target = useTls ? (await gateway.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/))[1] : gateway.port80;
  const host = "Host: stream.example\r\n";
  const up = (bytes: number) => exchange(target, `POST /up HTTP/1.1\r\n${host}Content-Length: ${bytes}\r\n\r\n`, bytes, rate, useTls);
  const down = (bytes: number) => exchange(target, `GET /down?bytes=${bytes} HTTP/1.1\r\n${host}\r\n`, 0, rate, useTls);
  const warm = await exchange(target, `GET /warm HTTP/1.1\r\n${host}\r\n`, 0, rate, useTls);
  if (!warm.status.includes(" 200")) throw new Error(`warm request: ${warm.status}`);
  const warmMib = Number(arg("warm-mib", "0"));
  if (warmMib > 0) {
    await up(warmMib * MIB);
    await down(warmMib * MIB);
  }
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssOf(pid);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  console.log(`${runtime}${useTls ? " (HTTPS)" : ""}: idle RSS ${mb(idle)} MB; body ${bodyBytes / MIB} MiB, slow reader ${rate / MIB} MiB/s`);
  for (const mode of modes) {
    let max = 0;
    const sampler = setInterval(() => (max = Math.max(max, rssOf(pid))), 100);
    const started = Date.now();
    const cpu = cpuOf(pid);
    const receivedBefore = upstream.received();
    const results = await Promise.all(Array.from({ length: streams }, () => (mode === "up" ? up(bodyBytes) : down(bodyBytes))));
    clearInterval(sampler);
    max = Math.max(max, rssOf(pid));
    const got = mode === "up" ? upstream.received() - receivedBefore : results.reduce((n, r) => n + r.bytes, 0);
    const seconds = (Date.now() - started) / 1000;
    const status = [...new Set(results.map((r) => r.status))].join(", ");
    console.log(`${runtime} ${mode}${streams > 1 ? ` (${streams} streams)` : ""}: ${status}, ${got} bytes in ${seconds.toFixed(1)} s; max RSS ${mb(max)} MB = ${(max / idle).toFixed(2)} x idle; gateway CPU ${(cpuOf(pid) - cpu).toFixed(2)} s`);
  }
  stopAll();
  gateway.child.kill("SIGKILL");
  upstream.close();
  process.exit(0);
}
