// End to end, WebSocket through every kind of listener with real peers (the `ws` package under
// Node): through a gateway, through a sidecar's outbound listener, and over the mTLS hop between two
// sidecars into an app. Text and a 1 MiB binary message round-trip unchanged, the close handshake
// passes, an Upgrade the listener does not carry is refused as Envoy does (403), h2c's Upgrade is
// dropped and the request served as HTTP/1.1, and a draining gateway ends an open WebSocket.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { curl, eventually, must, root, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";

const PEER = `${root}test/support/ws-peer.mjs`;
const echo = startEcho("plain");
let wsServer: Child;
let wsAddress: string;
let gateway: Gateway;
let a: Sidecar;
let b: Sidecar;
let work: string;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: front }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*.example"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: front }
spec:
  hosts: [ws.example, plain.example]
  gateways: [front]
  http:
  - match: [{ authority: { exact: plain.example } }]
    route: [{ destination: { host: plain.default.svc.cluster.local } }]
  - route: [{ destination: { host: chat.default.svc.cluster.local } }]
`;

test.before(async () => {
  wsServer = runCommand("node", [PEER, "server"]);
  const [, port] = await wsServer.waitFor(/listening (\d+)/);
  wsAddress = `127.0.0.1:${port}`;
  work = await platform.makeTempDir("dietmesh-ws-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const gConfig = await tempConfig({
    "chat.yaml": serviceEntry("chat", "chat.default.svc.cluster.local", [{ address: wsAddress }]),
    "plain.yaml": serviceEntry("plain", "plain.default.svc.cluster.local", [{ address: echo.address }]),
    "gateway.yaml": GATEWAY,
  });
  b = await startSidecar(await tempConfig({}), ["--app", wsAddress, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b"]);
  const aConfig = await tempConfig({
    "chat.yaml": serviceEntry("chat", "chat.default.svc.cluster.local", [{ address: wsAddress }]),
    "chat-b.yaml": serviceEntry("chat-b", "chat-b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]),
  });
  [gateway, a] = await Promise.all([startGateway(gConfig), startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a"])]);
});

test.after(async () => {
  stopAll();
  wsServer.kill("SIGKILL");
  await echo.server.stop(true);
  await platform.remove(work);
});

/** runs the ws client to its end; its output lines */
async function converse(url: string, host: string): Promise<string[]> {
  const client = runCommand("node", [PEER, "client", url, host]);
  const code = await client.exited;
  assert.is(code, 0, `ws client failed: ${client.lines.join(" | ")}`);
  return client.lines;
}

function assertConversation(lines: string[]): void {
  assert.ok(lines.includes("text echo: hello"), lines.join(" | "));
  assert.ok(lines.includes("binary true 1048576 same"), "the 1 MiB binary message came back unchanged: " + lines.join(" | "));
  assert.ok(lines.includes("closed 1000"), "the close handshake passed: " + lines.join(" | "));
}

test("through the gateway: the upgrade passes, messages go both ways unchanged, close is clean", async () => {
  const seen = wsServer.lines.length;
  assertConversation(await converse(`ws://${gateway.port80}/room/1`, "ws.example"));
  const connected = wsServer.lines.slice(seen).find((l) => l.startsWith("connected"));
  assert.ok(connected?.includes("path=/room/1"), `the server saw the request: ${connected}`);
  await eventually(async () => wsServer.lines.slice(seen).includes("server closed 1000"), 5000, "the server's close");
});

test("through a sidecar's outbound listener (origin-form, routed by Host)", async () => {
  assertConversation(await converse(`ws://${a.outbound}/chat`, "chat:8080"));
});

test("over the mTLS hop: sidecar A → mTLS → sidecar B (inbound) → app; the app sees A's identity", async () => {
  const seen = wsServer.lines.length;
  assertConversation(await converse(`ws://${a.outbound}/secure`, "chat-b:8080"));
  const connected = wsServer.lines.slice(seen).find((l) => l.startsWith("connected path=/secure"));
  assert.ok(connected?.includes("URI=spiffe://cluster.local/ns/default/sa/a"), `XFCC names A: ${connected}`);
});

test("an Upgrade the listener does not carry is refused with 403 (Envoy's upgrade_failed); the upstream sees nothing", async () => {
  const before = echo.requests.length;
  const r = await curl(["-H", "Host: plain.example", "-H", "Connection: Upgrade", "-H", "Upgrade: spdy/3", `http://${gateway.port80}/x`]);
  assert.is(r.status, 403);
  assert.is(echo.requests.length, before);
});

test("h2c's Upgrade is dropped as Envoy does: the request is answered over HTTP/1.1 and the upstream sees no Upgrade", async () => {
  const r = await curl(["--http2", "-H", "Host: plain.example", `http://${gateway.port80}/h2c`]);
  assert.is(r.status, 200, r.body);
  const seen = JSON.parse(r.body);
  assert.is(seen.url.endsWith("/h2c"), true);
  assert.is(seen.headers.upgrade, undefined);
  assert.not.match(seen.headers.connection ?? "", /upgrade/i);
});

test("a plain request to a WebSocket route is served as HTTP (no upgrade asked, none made)", async () => {
  const r = await curl(["-H", "Host: ws.example", `http://${gateway.port80}/`]);
  assert.is(r.status, 426, "the ws server's own answer to a request without an upgrade: " + r.status);
});

test("a draining gateway ends an open WebSocket: the client sees the connection close, the gateway exits", async () => {
  const config = await tempConfig({
    "chat.yaml": serviceEntry("chat", "chat.default.svc.cluster.local", [{ address: wsAddress }]),
    "gateway.yaml": GATEWAY,
  });
  const draining = await startGateway(config);
  const client = runCommand("node", [PEER, "hold", `ws://${draining.port80}/hold`, "ws.example"]);
  await client.waitFor(/^text echo: ping$/);
  assert.is(await runCommand("kill", ["-TERM", String(draining.child.pid)]).exited, 0);
  await client.waitFor(/^closed \d+$/, 10_000);
  assert.is(await client.exited, 0);
  assert.is(await draining.child.exited, 0, "the gateway drained and exited cleanly");
});

test.run();
