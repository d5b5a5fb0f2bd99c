// End to end, two DestinationRule fields of the HTTP/2 pool (issue 12): `maxConcurrentStreams`
// caps the streams dietmesh opens on one upstream HTTP/2 connection (a Node h2c server counts its
// connections and the streams open on each), and `h2UpgradePolicy: UPGRADE` carries HTTP/1.1
// clients' requests from sidecar A to sidecar B as HTTP/2 inside the mesh mTLS — several at once on
// one A→B connection — and B hands them to its HTTP/1.1 app as HTTP/1.1 (Host, POST body, response
// headers intact; UPGRADE set per port), while the default (and DO_NOT_UPGRADE) still opens one
// HTTP/1.1 connection per request in flight. A WebSocket-style Upgrade stays HTTP/1.1 under UPGRADE;
// a plaintext upstream outside the mesh gets h2c with prior knowledge, as Envoy sends it.
// Concurrency is proven by the servers holding every answer until all the requests have arrived:
// no sleeps.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { curl, must, run, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

// an h2c server (Node's node:http2) holding every stream until `want` are open at once, then
// answering them all and printing how many connections it saw and the most streams open on one
const H2_COUNTER = `import * as http2 from "node:http2";
const want = Number(process.argv[2]);
let sessions = 0, most = 0;
const held = [];
const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
server.on("session", (session) => { sessions++; session.open = 0; });
server.on("stream", (stream) => {
  const session = stream.session;
  session.open++;
  most = Math.max(most, session.open);
  stream.on("close", () => session.open--);
  held.push(stream);
  if (held.length < want) return;
  console.log("released " + JSON.stringify({ sessions, most }));
  for (const s of held.splice(0)) { s.respond({ ":status": 200 }); s.end("done"); }
});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
`;

// an HTTP/1.1 app (Node's node:http) answering with what it got; /hold?n=N answers once N are waiting
const H1_APP = `import * as http from "node:http";
const held = [];
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const reply = () => {
      res.setHeader("x-app", "yes");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ method: req.method, url: req.url, version: req.httpVersion, host: req.headers.host, connection: req.headers.connection ?? null, body: Buffer.concat(chunks).toString() }));
    };
    const n = Number(new URL(req.url, "http://x").searchParams.get("n") ?? 0);
    if (!req.url.startsWith("/hold")) return reply();
    held.push(reply);
    if (held.length >= n) for (const r of held.splice(0)) r();
  });
}).on("upgrade", (req, socket) => {
  // a WebSocket-style upgrade: 101, then every chunk echoed back
  socket.write("HTTP/1.1 101 Switching Protocols\\r\\nconnection: upgrade\\r\\nupgrade: " + req.headers.upgrade + "\\r\\n\\r\\n");
  socket.on("data", (d) => socket.write("echo:" + d));
}).listen(0, "127.0.0.1", function () { console.log("listening " + this.address().port); });
`;

let work = "";
let a: Sidecar;
let b: Sidecar;
const apps: Child[] = [];
let counter: Child;
let plainH2: Child;

async function nodeApp(name: string, source: string, args: string[] = []): Promise<{ child: Child; port: string }> {
  const file = `${work}/${name}.mjs`;
  await platform.writeTextFile(file, source);
  const child = runCommand("node", [file, ...args]);
  apps.push(child);
  const [, port] = await child.waitFor(/listening (\d+)/);
  return { child, port };
}

const meshEntry = (name: string, inbound: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: ${inbound.split(":")[1]} }, labels: { app: web }, serviceAccount: web }
`;

const config = (counterPort: string, plainH2Port: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: streams, namespace: default }
spec:
  hosts: [streams.example]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: h2, protocol: HTTP2 }]
  endpoints: [{ address: 127.0.0.1, ports: { h2: ${counterPort} } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: streams, namespace: default }
spec:
  host: streams.example
  trafficPolicy: { connectionPool: { http: { maxConcurrentStreams: 2 } } }
---
${meshEntry("up", b.inbound!)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: up, namespace: default }
spec:
  host: up.default.svc.cluster.local
  trafficPolicy:
    portLevelSettings: [{ port: { number: 8080 }, connectionPool: { http: { h2UpgradePolicy: UPGRADE } } }]
---
${meshEntry("plain", b.inbound!)}---
${meshEntry("never", b.inbound!)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: never, namespace: default }
spec:
  host: never.default.svc.cluster.local
  trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: DO_NOT_UPGRADE } } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: h2app, namespace: default }
spec:
  hosts: [h2app.example]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${plainH2Port} } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: h2app, namespace: default }
spec:
  host: h2app.example
  trafficPolicy: { connectionPool: { http: { h2UpgradePolicy: UPGRADE } } }
`;

/** A's pool for a service's cluster (no subset), from the admin API */
async function pool(service: string, port: number): Promise<{ opened: number; connections: number }> {
  const text = (await curl([`http://${a.admin}/clusters`])).body;
  const clusters: any[] = JSON.parse(text).clusters ?? JSON.parse(text);
  const cluster = clusters.find((c) => c.service === service && c.port === port && c.subset === null);
  assert.ok(cluster?.stats?.pool, text);
  return cluster.stats.pool;
}

/** n HTTP/1.1 requests at once through A's outbound port, each on its own client connection */
function together(n: number, host: string, path: string): Promise<{ status: number; body: string }[]> {
  return Promise.all(Array.from({ length: n }, () => curl(["--http1.1", "-H", `Host: ${host}`, `http://${a.outbound}${path}`])));
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-h2upgrade-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const app = await nodeApp("h1-app", H1_APP);
  b = await startSidecar(await tempConfig({}), ["--app", `127.0.0.1:${app.port}`, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "web", "--labels", "app=web"]);
  const c = await nodeApp("h2-counter", H2_COUNTER, ["5"]);
  counter = c.child;
  const h2app = await nodeApp("h2-plain", H2_COUNTER, ["1"]);
  plainH2 = h2app.child;
  a = await startSidecar(await tempConfig({ "mesh.yaml": config(c.port, h2app.port) }), ["--ca-dir", `${work}/ca`, "--service-account", "a"]);
});

test.after(async () => {
  stopAll();
  for (const child of apps) child.kill();
  await platform.remove(work);
});

test("maxConcurrentStreams 2: five requests at once reach the h2 upstream on three connections, never more than 2 streams on one", async () => {
  const released = counter.waitFor(/released (.*)/);
  const answers = await together(5, "streams.example:9000", "/slow");
  for (const r of answers) assert.is(r.status, 200, r.body);
  const seen = JSON.parse((await released)[1]);
  assert.ok(seen.sessions >= 3, JSON.stringify(seen));
  assert.is(seen.most, 2, JSON.stringify(seen));
  const stats = await pool("streams.example", 9000);
  assert.ok(stats.opened >= 3, JSON.stringify(stats));
});

test("h2UpgradePolicy UPGRADE: three HTTP/1.1 requests at once go to B on one mTLS connection, and to the app as HTTP/1.1", async () => {
  const before = await pool("up.default.svc.cluster.local", 8080).catch(() => ({ opened: 0, connections: 0 }));
  const answers = await together(3, "up.default.svc.cluster.local:8080", "/hold?n=3");
  for (const r of answers) {
    assert.is(r.status, 200, r.body);
    const got = JSON.parse(r.body);
    assert.is(got.version, "1.1", r.body);
    assert.is(got.host, "up.default.svc.cluster.local:8080", r.body);
  }
  const after = await pool("up.default.svc.cluster.local", 8080);
  // three requests in flight at once on one connection: HTTP/1.1 would have needed three
  assert.is(after.opened - before.opened, 1, JSON.stringify({ before, after }));
  assert.is(after.connections, 1, JSON.stringify(after));
});

test("UPGRADE: a chunked POST body, the method, the query and the app's response headers come through intact", async () => {
  const body = "x".repeat(70_000) + "end";
  const r = await run("curl", ["-s", "-i", "--max-time", "10", "--http1.1", "-H", "Host: up.default.svc.cluster.local:8080", "-H", "Transfer-Encoding: chunked", "--data-binary", body, `http://${a.outbound}/post?q=1`]);
  assert.is(r.code, 0, r.out.slice(0, 500));
  const text = r.out.replace(/\r/g, "");
  assert.match(text, /^HTTP\/1\.1 200/);
  assert.match(text, /\nx-app: yes\n/);
  assert.match(text, /\nset-cookie: a=1\n/);
  assert.match(text, /\nset-cookie: b=2\n/);
  const got = JSON.parse(text.slice(text.indexOf("\n\n") + 2));
  assert.is(got.method, "POST");
  assert.is(got.url, "/post?q=1");
  assert.is(got.body, body);
  assert.is(got.version, "1.1");
});

test("default and DO_NOT_UPGRADE: HTTP/1.1 between the sidecars, one connection per request in flight", async () => {
  for (const service of ["plain", "never"]) {
    const host = `${service}.default.svc.cluster.local`;
    const before = await pool(host, 8080).catch(() => ({ opened: 0, connections: 0 }));
    const answers = await together(3, `${host}:8080`, "/hold?n=3");
    for (const r of answers) assert.is(JSON.parse(r.body).version, "1.1", r.body);
    const after = await pool(host, 8080);
    assert.is(after.opened - before.opened, 3, JSON.stringify({ service, before, after }));
  }
});

test("UPGRADE: a WebSocket-style Upgrade stays HTTP/1.1 to B and the app, and its tunnel carries bytes both ways", async () => {
  const socket = net.connect(Number(a.outbound.split(":")[1]), "127.0.0.1");
  let got = "";
  const seen = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => got.includes(text) && (socket.off("data", on), resolve());
      const on = (d: Buffer) => ((got += d.toString("latin1")), check());
      socket.on("data", on);
      socket.once("error", reject);
      socket.once("close", () => reject(new Error(`closed before ${JSON.stringify(text)}: ${got}`)));
      check();
    });
  try {
    socket.write("GET /ws HTTP/1.1\r\nhost: up.default.svc.cluster.local:8080\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n");
    await seen("\r\n\r\n");
    assert.match(got, /^HTTP\/1\.1 101 /, got);
    socket.write("ping");
    await seen("echo:ping");
  } finally {
    socket.destroy();
  }
});

test("UPGRADE to a plaintext upstream outside the mesh: h2c with prior knowledge, as Envoy (an HTTP/2 server answers)", async () => {
  const released = plainH2.waitFor(/released (.*)/);
  const r = await curl(["--http1.1", "-H", "Host: h2app.example:8080", `http://${a.outbound}/one`]);
  assert.is(r.status, 200, r.body);
  assert.is(r.body, "done");
  assert.equal(JSON.parse((await released)[1]), { sessions: 1, most: 1 });
});

test.run();
