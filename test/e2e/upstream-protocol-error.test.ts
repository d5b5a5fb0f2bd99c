// End to end: an upstream that answers bytes that are no valid HTTP/1.1 response (a bad status
// line, Content-Length beside chunked, a broken chunk size, a head over the limit, a 101 nobody
// asked for, a status outside 200..599, a header name that is no token) gets Envoy's answer: 502,
// flag UPE, details upstream_reset_before_response_started{protocol_error} — in the client's reply,
// the JSON access log and istio_requests_total — and not 503 UC as a closed connection. The bad
// connection is dropped: the next request goes on a fresh one and is served. A protocol error is
// retried as a reset is (retryOn reset), and not by retryOn connect-failure.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server, type Socket } from "node:net";
import { curl, eventually, serviceEntry, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** what the raw upstream writes for each path; the connection stays open after it */
const BAD: Record<string, string> = {
  "/status-line": "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
  "/cl-te": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "/chunk-size": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  "/head-too-big": `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(128 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
  "/unexpected-101": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
  "/status-600": "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n",
  "/header-name": "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n",
};

/** each request the raw upstream read: its path and which connection (1, 2, …) carried it */
const seen: { path: string; conn: number }[] = [];
const sockets = new Set<Socket>();
let connections = 0;
const raw: Server = createServer((socket) => {
  const conn = ++connections;
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
  socket.on("error", () => {});
  let buffered = "";
  socket.on("data", (data) => {
    buffered += data.toString("latin1");
    let end: number;
    // requests here have no body: a head is the whole request
    while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      const path = head.split(" ")[1];
      seen.push({ path, conn });
      socket.write(BAD[path] ?? OK, "latin1");
    }
  });
});

let sidecar: Sidecar;

function vs(name: string, retries: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
  - route: [{ destination: { host: ${name} } }]
    retries: ${retries}
`;
}

test.before(async () => {
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(raw.address() as { port: number }).port}`;
  const files = {
    "raw.yaml": serviceEntry("raw", "raw.default.svc.cluster.local", [{ address }]) + "---\n" + vs("raw", "{ attempts: 0 }"),
    "again.yaml": serviceEntry("again", "again.default.svc.cluster.local", [{ address }]) + "---\n" + vs("again", "{ attempts: 2, retryOn: reset }"),
    "connect.yaml": serviceEntry("connect", "connect.default.svc.cluster.local", [{ address }]) + "---\n" + vs("connect", "{ attempts: 2, retryOn: connect-failure }"),
  };
  sidecar = await startSidecar(await tempConfig(files), ["--access-log", "json"]);
});

test.after(async () => {
  stopAll();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => raw.close(resolve));
});

async function send(host: string, path: string, id: string) {
  const res = await upstreamClient.send({
    url: `http://${sidecar.outbound}${path}`,
    method: "GET",
    headers: new Headers({ host: `${host}:8080`, "x-request-id": id }),
    body: null,
  });
  return { status: res.status, body: await res.text() };
}

async function logged(id: string): Promise<{ response_code: number; response_flags: string; response_code_details: string }> {
  const line = await eventually(async () => sidecar.child.lines.find((l) => l.startsWith("{") && l.includes(`"${id}"`)), 5000, `log line ${id}`);
  return JSON.parse(line);
}

for (const path of Object.keys(BAD)) {
  test(`${path}: 502 UPE, logged with the protocol_error details; the next request goes on a fresh connection`, async () => {
    const before = seen.length;
    const id = `id${path.replace("/", "-")}`;
    const reply = await send("raw", path, id);
    assert.is(reply.status, 502);
    assert.is(reply.body, "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
    const entry = await logged(id);
    assert.is(entry.response_code, 502);
    assert.is(entry.response_flags, "UPE");
    assert.is(entry.response_code_details, "upstream_reset_before_response_started{protocol_error}");
    // a valid answer afterwards, on another connection than the one that carried the bad answer
    const ok = await send("raw", "/ok", `${id}-ok`);
    assert.equal(ok, { status: 200, body: "ok" });
    const mine = seen.slice(before);
    assert.equal(mine.map((s) => s.path), [path, "/ok"], "each sent once: attempts 0");
    assert.is.not(mine[1].conn, mine[0].conn, "the bad connection is not reused");
    assert.is((await logged(`${id}-ok`)).response_flags, "-");
  });
}

test("istio_requests_total counts the 502s with response_flags UPE", async () => {
  const metrics = (await curl(["-s", `http://${sidecar.admin}/stats/prometheus`])).body;
  const line = metrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="502"') && l.includes('response_flags="UPE"'));
  assert.ok(line, "a 502 UPE series");
  assert.is(Number(line!.split(" ").pop()), Object.keys(BAD).length);
});

test("retryOn reset retries a protocol error as Envoy does; retryOn connect-failure does not", async () => {
  let before = seen.length;
  const retried = await send("again", "/cl-te", "id-retried");
  assert.is(retried.status, 502);
  assert.equal(seen.slice(before).map((s) => s.path), ["/cl-te", "/cl-te", "/cl-te"], "the first try and two retries");
  const entry = await logged("id-retried");
  assert.is(entry.response_flags, "URX,UPE");
  assert.is(entry.response_code_details, "upstream_reset_before_response_started{protocol_error}");

  before = seen.length;
  const once = await send("connect", "/cl-te", "id-once");
  assert.is(once.status, 502);
  assert.equal(seen.slice(before).map((s) => s.path), ["/cl-te"], "not retried");
  assert.is((await logged("id-once")).response_flags, "UPE");
});

test.run();
