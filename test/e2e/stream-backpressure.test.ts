// Issue 15 item 12: a gateway streaming a body to a side that stops reading must stop reading the
// other side. A client pushes up to 256 MiB at a gateway whose upstream never reads (and an
// upstream pushes 256 MiB down to a client that never reads); once the writer is stuck, every byte
// it handed the kernel is either in a socket queue (the kernel's /proc/net/tcp tx/rx queues of the
// four sockets on the path) or inside the proxy. The test asserts what is inside the proxy stays
// within a fixed window, however much the writer had to send — a count of bytes, not a time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, connect, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { gatewayConfig } from "../../bench/memory/stream-rss.ts";
import { startGateway, stopAll, eventually } from "../support/mesh.ts";

const MIB = 1024 * 1024;
const BODY = 256 * MIB;
/** the proxy's own buffers: 64 KiB per body stream and write queue, a few reads in flight; 2 MiB is generous */
const WINDOW = 2 * MIB;
/** the heads the gateway wrote sit in the queues too, counted in none of the writers' bytes */
const HEADS = 16 * 1024;
const chunk = new Uint8Array(64 * 1024).fill(0x62);

/** pushes up to `total` bytes; `stuck()` says whether it waits for a drain that has not come */
function writer(socket: Socket, total: number) {
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

/** tx + rx queue bytes of the established loopback sockets with a local or remote port in `ports` */
function kernelQueued(ports: number[]): number {
  let sum = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== "01") continue;
      const local = parseInt(f[1].split(":")[1], 16);
      const remote = parseInt(f[2].split(":")[1], 16);
      if (!ports.includes(local) && !ports.includes(remote)) continue;
      const [tx, rx] = f[4].split(":").map((h) => parseInt(h, 16));
      sum += tx + rx;
    }
  }
  return sum;
}

/**
 * waits until the writer is stuck (or has pushed everything: no backpressure) and the kernel's
 * queues are the same on two reads in a row
 */
async function settled(w: ReturnType<typeof writer>, ports: number[]): Promise<number> {
  let last = -1;
  return eventually(async () => {
    if (!w.stuck() && w.pushed() < BODY) return (last = -1), false;
    const now = kernelQueued(ports);
    const same = now === last;
    last = now;
    return same ? now + 1 : false; // +1: a truthy value even when nothing is queued
  }, 15_000, "the writer to be stuck").then((n) => n - 1);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

const sockets: Socket[] = [];
const servers: Server[] = [];
test.after.each(() => {
  stopAll();
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
});

test("a request body to an upstream that stops reading: the gateway holds at most a fixed window", async () => {
  // the upstream accepts and never reads: everything stops in its receive queue, then upstream of it
  const upstream = createServer((socket) => {
    socket.pause();
    sockets.push(socket);
  });
  servers.push(upstream);
  const upstreamPort = await listen(upstream);
  const gateway = await startGateway(await gatewayConfig(upstreamPort));
  const gatewayPort = Number(gateway.port80.split(":")[1]);
  const client = connect(gatewayPort, "127.0.0.1");
  sockets.push(client);
  client.on("error", () => {});
  await new Promise((resolve) => client.once("connect", resolve));
  client.write(`POST /up HTTP/1.1\r\nHost: stream.example\r\nContent-Length: ${BODY}\r\n\r\n`);
  const w = writer(client, BODY);
  w.more();
  const queued = await settled(w, [gatewayPort, upstreamPort]);
  const held = w.inKernel() - queued; // the upstream read nothing; the queues also hold the heads the gateway wrote
  assert.ok(w.pushed() < BODY / 2, `the client could push ${w.pushed()} of ${BODY} bytes`);
  assert.ok(held > -HEADS && held <= WINDOW, `the gateway holds ${held} bytes (client gave the kernel ${w.inKernel()}, socket queues ${queued})`);
});

test("a response body to a client that stops reading: the gateway holds at most a fixed window", async () => {
  let w: ReturnType<typeof writer> | undefined;
  let started!: () => void;
  const writing = new Promise<void>((resolve) => (started = resolve));
  // the upstream answers the first request it sees with a 256 MiB body, pushed as fast as it goes
  const upstream = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    let seen = "";
    socket.on("data", (data: Uint8Array) => {
      seen += new TextDecoder("latin1").decode(data);
      if (w || !seen.includes("\r\n\r\n")) return;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY}\r\n\r\n`);
      w = writer(socket, BODY);
      w.more();
      started();
    });
  });
  servers.push(upstream);
  const upstreamPort = await listen(upstream);
  const gateway = await startGateway(await gatewayConfig(upstreamPort));
  const gatewayPort = Number(gateway.port80.split(":")[1]);
  const client = connect(gatewayPort, "127.0.0.1");
  sockets.push(client);
  client.on("error", () => {});
  await new Promise((resolve) => client.once("connect", resolve));
  client.pause(); // never reads: the response stops in its receive queue
  client.write("GET /down HTTP/1.1\r\nHost: stream.example\r\n\r\n");
  await writing;
  const queued = await settled(w!, [gatewayPort, upstreamPort]);
  const held = w!.inKernel() - queued;
  assert.ok(w!.pushed() < BODY / 2, `the upstream could push ${w!.pushed()} of ${BODY} bytes`);
  assert.ok(held > -HEADS && held <= WINDOW, `the gateway holds ${held} bytes (upstream gave the kernel ${w!.inKernel()}, socket queues ${queued})`);
});

test.run();
