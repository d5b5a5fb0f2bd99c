// What a runtime's TLS server itself holds while it reads a large upload, with no proxy around it:
// the floor under the gateway's HTTPS upload figure (docs/performance.md, "The TLS read side's own
// floor"). A server process reads and discards MIB mebibytes sent by a client in this process, and
// its RSS is sampled every 50 ms against its idle RSS.
//   node:   node:tls's server (what serves Gateway HTTPS and mesh mTLS, mesh-listener.ts), with a
//           collection after every 6 MB read, as read-garbage.ts does for dietmesh's reads
//   native: Deno.listenTls, read into one reused 64 KiB buffer (Deno only)
// Usage: deno run -A bench/memory/tls-sink-rss.ts [--mode node|native] [--mib 1024]
//        (bun bench/memory/tls-sink-rss.ts --mode node works too)
import { createServer, connect } from "node:tls";
import { readFileSync } from "node:fs";
import { runCommand } from "../../runtime/platform/process.ts";
import { throwawayCert } from "./stream-rss.ts";

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const MIB = 1024 * 1024;

/** the server side: prints its port, then reads every connection to its end */
async function serve(mode: string, dir: string): Promise<void> {
  const key = readFileSync(`${dir}/tls.key`, "utf8");
  const cert = readFileSync(`${dir}/tls.crt`, "utf8");
  if (mode === "native") {
    const D = (globalThis as unknown as { Deno: { listenTls(o: object): AsyncIterable<{ read(b: Uint8Array): Promise<number | null>; close(): void }> & { addr: { port: number } } } }).Deno;
    const listener = D.listenTls({ hostname: "127.0.0.1", port: 0, key, cert });
    console.log(listener.addr.port);
    for await (const conn of listener) {
      const buffer = new Uint8Array(64 * 1024);
      while ((await conn.read(buffer)) !== null);
      conn.close();
    }
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc ?? (globalThis as unknown as { Bun?: { gc(full: boolean): void } }).Bun?.gc.bind(null, false);
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  const server = createServer({ key, cert }, (socket) => {
    let since = 0;
    socket.on("data", (chunk: Uint8Array) => {
      since += chunk.byteLength;
      if (since >= 6e6) {
        since = 0;
        gc();
      }
    });
    socket.on("end", () => socket.end());
  });
  server.listen(0, "127.0.0.1", () => console.log((server.address() as { port: number }).port));
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}

async function drive(mode: string, mib: number): Promise<void> {
  const dir = await throwawayCert();
  const self = new URL(import.meta.url).pathname;
  const onDeno = !("Bun" in globalThis);
  const runArgs = onDeno ? ["run", "-A", "--quiet", "--v8-flags=--expose-gc", self] : [self];
  const child = runCommand(process.execPath, [...runArgs, "--serve", mode, "--dir", dir]);
  const [line] = await child.waitFor(/^\d+$/m);
  const port = Number(line.trim());
  // idle after the runtime has settled, as stream-rss.ts reads it
  await new Promise((r) => setTimeout(r, 500));
  const idle = rssKb(child.pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb(child.pid))), 50);
  const started = performance.now();
  await new Promise<void>((done, fail) => {
    const chunk = new Uint8Array(64 * 1024).fill(7);
    let left = (mib * MIB) / chunk.byteLength;
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const pump = () => {
        while (left > 0) {
          left--;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    });
    socket.on("data", () => {});
    socket.on("close", () => done());
    socket.on("error", fail);
  });
  clearInterval(sampler);
  peak = Math.max(peak, rssKb(child.pid));
  const seconds = (performance.now() - started) / 1000;
  child.kill();
  await child.exited;
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  console.log(`${onDeno ? "deno" : "bun"} ${mode}: ${mib} MiB in ${seconds.toFixed(1)} s, idle ${mb(idle)} MB, peak ${mb(peak)} MB, ${(peak / idle).toFixed(2)} × (+${mb(peak - idle)} MB)`);
}

if (import.meta.main) {
  const serveMode = arg("serve", "");
  if (serveMode) await serve(serveMode, arg("dir", ""));
  else await drive(arg("mode", "node"), Number(arg("mib", "1024")));
}
