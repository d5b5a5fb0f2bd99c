// Issue 15 item 12: a gateway streaming a body to a side that stops reading must stop reading the
// other side. A client pushes up to 256 MiB at a gateway whose upstream never reads (and an
// upstream pushes 256 MiB down to a client that never reads); once the writer is stuck, every byte
// it handed the kernel is either in a socket queue (the kernel's /proc/net/tcp tx/rx queues of the
// four sockets on the path) or inside the proxy. The test asserts what is inside the proxy stays
// within a fixed window, however much the writer had to send — a count of bytes, not a time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, connect, type Server, type Socket } from "node:net";
import { gatewayConfig } from "../../bench/memory/stream-rss.ts";
import { startGateway, stopAll } from "../support/mesh.ts";
import { writer, settled, WRITER_CHUNK } from "../support/backpressure.ts";

const MIB = 1024 * 1024;
const BODY = 256 * MIB;
/** the proxy's own buffers: 64 KiB per body stream and write queue, a few reads in flight; 2 MiB is generous */
const WINDOW = 2 * MIB;
/**
 * How far below zero the count may go: the heads the gateway wrote sit in the queues too, counted in
 * none of the writers' bytes, and a writer's count is exact only to one chunk (backpressure.ts)
 */
const SLACK = 16 * 1024 + WRITER_CHUNK;
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
  const queued = await settled(w, BODY, [gatewayPort, upstreamPort]);
  const held = w.inKernel() - queued; // the upstream read nothing; the queues also hold the heads the gateway wrote
  assert.ok(w.pushed() < BODY / 2, `the client could push ${w.pushed()} of ${BODY} bytes`);
  assert.ok(held > -SLACK && held <= WINDOW, `the gateway holds ${held} bytes (client gave the kernel ${w.inKernel()}, socket queues ${queued})`);
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
  const queued = await settled(w!, BODY, [gatewayPort, upstreamPort]);
  const held = w!.inKernel() - queued;
  assert.ok(w!.pushed() < BODY / 2, `the upstream could push ${w!.pushed()} of ${BODY} bytes`);
  assert.ok(held > -SLACK && held <= WINDOW, `the gateway holds ${held} bytes (upstream gave the kernel ${w!.inKernel()}, socket queues ${queued})`);
});

test.run();
