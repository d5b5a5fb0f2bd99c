// The TLS client transport (runtime/platform/http1/tls-transport.ts: mesh mTLS and TLS origination)
// reports what it reads to read-garbage.ts, as the plaintext transports do, so a body streamed from
// a TLS upstream to a slow reader has its read arrays collected too (issue 15, streaming memory).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:tls";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { meshConnect } from "../../runtime/platform/http1/mesh-connect.ts";
import { bytesNoted } from "../../runtime/platform/read-garbage.ts";

const SENT = 3 * 1024 * 1024;
let server: Server;
let port = 0;
let dir = "";

test.before(async () => {
  dir = mkdtempSync(`${tmpdir()}/tls-read-garbage-`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=up.example", "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`], { stdio: "ignore" });
  server = createServer({ key: readFileSync(`${dir}/k.pem`), cert: readFileSync(`${dir}/c.pem`) }, (socket) => {
    socket.on("error", () => {});
    socket.end(new Uint8Array(SENT).fill(0x61));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

test.after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test("every byte the TLS transport reads is noted", async () => {
  const before = bytesNoted();
  const connect = meshConnect(() => {
    throw new Error("plaintext not expected");
  }, () => ({
    credentials: () => null,
    verifyPeer: () => null,
    origination: { serverName: "up.example", material: async () => ({}), insecureSkipVerify: true },
  }));
  let received = 0;
  const closed = new Promise<Error | null>((resolve) => {
    connect("127.0.0.1", port, {
      onOpen() {},
      onData: (chunk) => void (received += chunk.byteLength),
      onDrain() {},
      onClose: resolve,
    });
  });
  let timer: ReturnType<typeof setTimeout>;
  const error = await Promise.race([closed, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("never closed")), 15_000)))]).finally(() => clearTimeout(timer));
  assert.is(error, null);
  assert.is(received, SENT);
  assert.ok(bytesNoted() - before >= SENT, `noted ${bytesNoted() - before} of ${SENT}`);
});

test.run();
