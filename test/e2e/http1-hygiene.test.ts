// Malformed HTTP/1.1 requests, sent as raw bytes (bash's /dev/tcp) to a sidecar's outbound
// listener (the runtime's own server) and to an identity-holding sidecar's inbound listener (the
// mesh listener, node:http): each gets Envoy's status where the runtime's parser allows it, the
// proxy never crashes, and the next well-formed request is served. Where a runtime's parser
// answers differently from Envoy the test pins what it does and docs/architecture.md says so.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { defaultConnect } from "../../runtime/upstream/http1/index.ts";
import { cli, curl, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const echo = startEcho("up");
let outbound: Sidecar;
let inbound: Sidecar;
let work = "";

/**
 * sends raw bytes on a fresh connection (the platform's own socket layer, as the HTTP/1.1 client
 * uses it) and resolves with the answer's status line, or "(closed)" when none came
 */
function raw(address: string, bytes: string): Promise<string> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const finish = (line: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      transport.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => finish(text.split("\r\n")[0] || "(closed)"), 5000);
    const transport = defaultConnect(host, Number(port), {
      onOpen: () => void transport.write(new TextEncoder().encode(bytes)),
      onData(chunk) {
        text += new TextDecoder().decode(chunk);
        if (text.includes("\r\n")) finish(text.split("\r\n")[0]);
      },
      onDrain() {},
      onClose: () => finish(text.split("\r\n")[0] || "(closed)"),
    });
  });
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-hygiene-");
  assert.is(await runScript(cli, ["ca", "init", "--dir", `${work}/ca`]).exited, 0);
  outbound = await startSidecar(await tempConfig({ "up.yaml": serviceEntry("up", "up.default.svc.cluster.local", [{ address: echo.address }]) }));
  inbound = await startSidecar(await tempConfig({}), ["--app", echo.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`]);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(work);
});

const H = "Host: up:8080\r\n";
const cases: [string, string, number][] = [
  ["Content-Length with Transfer-Encoding", `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ["a header name with a space", `GET / HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n`, 400],
  ["two different Content-Lengths", `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, 400],
  ["no Host", "GET / HTTP/1.1\r\n\r\n", 400],
];

for (const [what, bytes, status] of cases) {
  test(`${what} → ${status} on both listeners`, async () => {
    for (const address of [outbound.outbound, inbound.inbound!]) {
      const line = await raw(address, bytes);
      assert.match(line, new RegExp(`^HTTP/1\\.1 ${status} `), `${address}: ${line}`);
    }
  });
}

test("Transfer-Encoding gzip (Envoy: 501) and a 70 KB header (Envoy: 431): the runtimes' parsers answer 400, or 431 on Bun's", async () => {
  for (const address of [outbound.outbound, inbound.inbound!]) {
    assert.match(await raw(address, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabc`), /^HTTP\/1\.1 (400|501) /);
  }
  const big = await raw(outbound.outbound, `GET / HTTP/1.1\r\n${H}X-Big: ${"a".repeat(70_000)}\r\n\r\n`);
  assert.match(big, platform.name === "bun" ? /^HTTP\/1\.1 431 / : /^HTTP\/1\.1 (400|431) /);
});

test("after all of that, both sidecars still serve", async () => {
  assert.is((await curl(["-H", "Host: up:8080", `http://${outbound.outbound}/ok`])).status, 200);
  assert.is((await curl([`http://${inbound.inbound}/ok`])).status, 200);
  assert.is(outbound.child.lines.some((l) => /internal error|uncaught/i.test(l)), false);
});

test.run();
