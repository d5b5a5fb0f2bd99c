// A paused TLS socket pushes back on its peer (issue 15, streaming memory). Deno 2.9's node:tls
// kept reading and decrypting under a paused socket, so a fast uploader over HTTPS or mesh mTLS
// piled its whole body into the proxy; runtime/platform/socket-reads.ts stops the reads beneath.
// Each test lets a real TLS peer push up to 256 MiB at a paused side and waits until the writer is
// stuck or has pushed everything: counts of bytes, not times.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { TLSSocket, connect as tlsConnect, createServer as createTlsServer, createSecureContext, type Server as TlsServer } from "node:tls";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { NodeSocketTransport } from "../../runtime/platform/node-socket.ts";
import { pauseReads, resumeReads } from "../../runtime/platform/socket-reads.ts";
import { settled, writer } from "../support/backpressure.ts";

const MIB = 1024 * 1024;
const BODY = 256 * MIB;
/** kernel buffers on loopback plus the TLS library's records: far below what a runaway read takes */
const WINDOW = 16 * MIB;
/** what loopback's socket buffers hold before a writer is stuck (several MiB): a reader that took
 * everything leaves far less queued */
const FULL = 512 * 1024;
let dir = "";
let key = "";
let cert = "";
const closers: Array<() => void> = [];

test.before(() => {
  dir = mkdtempSync(`${tmpdir()}/tls-read-pause-`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=pause.example", "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`], { stdio: "ignore" });
  key = readFileSync(`${dir}/k.pem`, "utf8");
  cert = readFileSync(`${dir}/c.pem`, "utf8");
});
test.after.each(() => {
  for (const close of closers.splice(0)) close();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function listening(server: NetServer | TlsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

test("a server TLS socket (the mesh listener's) paused by its transport stops reading off the wire, and resumes", async () => {
  let raw!: Socket;
  let transport!: NodeSocketTransport;
  let received = 0;
  let holding = true;
  let admitted!: () => void;
  const secure = new Promise<void>((resolve) => (admitted = resolve));
  // as mesh-listener.ts does: node:net accepts, node:tls is wrapped around the accepted socket
  const server = createNetServer((socket) => {
    raw = socket;
    const tls = new TLSSocket(socket, { isServer: true, secureContext: createSecureContext({ key, cert }) });
    tls.on("error", () => {});
    tls.once("secure", () => {
      transport = new NodeSocketTransport(tls);
      transport.attach({ onOpen() {}, onData: (chunk) => ((received += chunk.byteLength), holding && transport.pause()), onDrain() {}, onClose() {} }, null);
      admitted();
    });
  });
  closers.push(() => server.close());
  const port = await listening(server);
  const client = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  closers.push(() => client.destroy());
  client.on("error", () => {});
  await secure;
  const w = writer(client, BODY);
  w.more();
  await settled(w, BODY, [port], FULL);
  assert.ok(w.pushed() < BODY / 2, `the client could push ${w.pushed()} of ${BODY} bytes at a paused server`);
  assert.ok(raw.bytesRead <= WINDOW, `the paused server read ${raw.bytesRead} bytes off the wire`);
  // resumed, it reads on: the client gets unstuck and pushes more than it could while paused
  const before = w.pushed();
  const heldAt = received;
  holding = false;
  transport.resume();
  await new Promise<void>((resolve) => client.once("drain", () => resolve()));
  assert.ok(w.pushed() > before && received > heldAt, `resumed: the client pushed ${w.pushed()} (was ${before}), the server received ${received} (was ${heldAt})`);
});

test("a client TLS socket (the upstream transport's) paused stops reading off the wire", async () => {
  let w!: ReturnType<typeof writer>;
  let started!: () => void;
  const writing = new Promise<void>((resolve) => (started = resolve));
  const server = createTlsServer({ key, cert }, (socket) => {
    socket.on("error", () => {});
    w = writer(socket, BODY);
    w.more();
    started();
  });
  closers.push(() => server.close());
  const port = await listening(server);
  const client = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  closers.push(() => client.destroy());
  client.on("error", () => {});
  client.once("data", () => pauseReads(client));
  client.on("data", () => {});
  await writing;
  await settled(w, BODY, [port], FULL);
  assert.ok(w.pushed() < BODY / 2, `the server could push ${w.pushed()} of ${BODY} bytes at a paused client`);
  resumeReads(client);
  await new Promise<void>((resolve) => client.once("data", () => resolve()));
});

test.run();
