// End to end, gRPC through the gateway over HTTP/2 (issue 12 items 1–2, first slice): a Gateway
// server with protocol GRPC gets an h2c listener; a real @grpc/grpc-js client and server (in Node,
// test/support/grpc-peer.mjs) make unary, server-streaming, client-streaming and bidi calls through
// it to a ServiceEntry port declared GRPC (upstream HTTP/2). A server's NOT_FOUND with its message
// and trailing metadata (-bin included) reaches the client; request metadata reaches the server;
// a VirtualService header match on metadata picks a subset; a route with no healthy upstream gets
// UNAVAILABLE from the proxy itself (HTTP 200 + grpc-status). h2load drives 100 concurrent streams
// over one connection to the same port.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { root, run, startGateway, startProcess, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const peer = `${root}test/support/grpc-peer.mjs`;
let v1: Child;
let v2: Child;
let gateway: Gateway;
let grpcPort: string; // 127.0.0.1:PORT of the GRPC server port
let config: string;

function nodeProcess(args: string[]): Child {
  const child = runCommand("node", [peer, ...args], { cwd: root } as never);
  return child;
}

const meshYaml = (v1Port: string, v2Port: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc, protocol: GRPC }]
  endpoints:
  - { address: 127.0.0.1, ports: { grpc: ${v1Port} }, labels: { version: v1 } }
  - { address: 127.0.0.1, ports: { grpc: ${v2Port} }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: gone, namespace: default }
spec:
  hosts: [gone.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc, protocol: GRPC }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo, namespace: default }
spec:
  host: echo.default.svc.cluster.local
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 9090, name: grpc, protocol: GRPC }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.example]
  gateways: [edge]
  http:
  - match: [{ headers: { x-route: { exact: v2 } } }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - route: [{ destination: { host: echo.default.svc.cluster.local, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: gone, namespace: default }
spec:
  hosts: [gone.example]
  gateways: [edge]
  http:
  - route: [{ destination: { host: gone.default.svc.cluster.local } }]
`;

/** runs the gRPC client against the gateway: case name → its JSON result */
async function calls(authority: string, ...cases: string[]): Promise<Record<string, any>> {
  const { code, out } = await run("node", [peer, "client", grpcPort, authority, ...cases]);
  assert.is(code, 0, out);
  const results: Record<string, any> = {};
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (cases.includes(line.slice(0, space))) results[line.slice(0, space)] = JSON.parse(line.slice(space + 1));
  }
  assert.equal(Object.keys(results).sort(), [...cases].sort(), out);
  return results;
}

test.before(async () => {
  v1 = startProcess(peer, ["server", "v1"]);
  v2 = startProcess(peer, ["server", "v2"]);
  const [[, p1], [, p2]] = await Promise.all([v1.waitFor(/listening (\d+)/), v2.waitFor(/listening (\d+)/)]);
  config = await tempConfig({ "mesh.yaml": meshYaml(p1, p2) });
  gateway = await startGateway(config, ["--bind", "9090=127.0.0.1:0"]);
  [, grpcPort] = await gateway.child.waitFor(/gateway port 9090 listening on (\S+) \(h2c\)/);
});

test.after(async () => {
  stopAll();
  await platform.remove(config);
});

test("each kind of call passes the gateway, with metadata both ways", async () => {
  const r = await calls("echo.example", "unary", "server-stream", "client-stream", "bidi");
  assert.is(r.unary.reply.name, "v1");
  assert.is(r.unary.reply.text, "hi");
  // request metadata, binary included, reaches the server
  assert.is(r.unary.reply.metadata["x-hello"], "world");
  assert.is(r.unary.reply.metadata["x-token-bin"], "hex:deadbeef");
  // response metadata: initial (headers) and trailing (trailers), binary included
  assert.is(r.unary.initial, "v1");
  assert.is(r.unary.trailer, "late");
  assert.is(r.unary.trailerBin, "000102ff");
  assert.equal(r["server-stream"].got, [0, 1, 2, 3, 4]);
  assert.equal(r["client-stream"].reply, { name: "v1", count: 10, sum: 55 });
  // the client sends each message only after the previous answer: nothing may be buffered
  assert.equal(r.bidi.got, [1, 2, 3, 4, 5]);
});

test("a server's NOT_FOUND with its message and trailers reaches the client", async () => {
  const r = await calls("echo.example", "notfound");
  assert.is(r.notfound.error.code, 5);
  assert.is(r.notfound.error.details, "no such thing: naïve 100%");
  assert.is(r.notfound.error.trailer, "late");
  assert.is(r.notfound.error.trailerBin, "000102ff");
});

test("a metadata header match picks the subset", async () => {
  const r = await calls("echo.example", "route-v2", "unary");
  assert.is(r["route-v2"].reply.name, "v2");
  assert.is(r.unary.reply.name, "v1");
});

test("no healthy upstream: UNAVAILABLE from the proxy itself", async () => {
  const r = await calls("gone.example", "unary");
  assert.is(r.unary.error.code, 14);
  assert.is(r.unary.error.details, "no healthy upstream");
  assert.is(r.unary.error.flags, "UH");
  // no route at all: UNIMPLEMENTED (Envoy's mapping of 404)
  const nr = await calls("nowhere.example", "unary");
  assert.is(nr.unary.error.code, 12);
  assert.is(nr.unary.error.flags, "NR");
});

test("h2load: 100 concurrent streams on one connection, all succeed", async () => {
  // a unary call as h2load can make it: one length-prefixed message (JSON, as grpc-peer.mjs reads)
  const message = JSON.stringify({ text: "load" });
  const frame = `${config}/unary.bin`;
  await platform.writeTextFile(frame, "\x00\x00\x00\x00" + String.fromCharCode(message.length) + message);
  const { code, out } = await run("h2load", ["-n", "2000", "-c", "1", "-m", "100", "-H", ":authority: echo.example", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", frame, `http://${grpcPort}/dm.Echo/Unary`]);
  assert.is(code, 0, out);
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  assert.ok(m, out);
  assert.is(Number(m![4]), 2000, out);
  assert.is(Number(m![5]), 0, out);
  assert.match(out, /status codes: 2000 2xx/);
});

test.run();
