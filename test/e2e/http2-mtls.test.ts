// End to end, HTTP/2 inside the mTLS between sidecars (issue 12 item 1): a grpc-js client speaks h2c
// (by the preface) to sidecar A's outbound port; A reaches sidecar B over mTLS with ALPN h2, one
// connection carrying the streams; B serves them into its inbound chain and forwards the gRPC calls
// to its app over h2c (other requests over HTTP/1.1). Calls of every kind with trailers, NOT_FOUND
// with its message, a metadata header choosing a subset, retryOn unavailable moving to a healthy
// host, h2load's 100 streams on one connection, HTTP/1.1 still carried over the same pair, STRICT
// refusing plaintext (h2c included), and the caller's principal in the destination's metrics. B
// "v1" and "down" are STRICT (Bun's native TLS listener there), B "v2" is PERMISSIVE (the sniffing
// node:tls listener).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, must, root, run, startProcess, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const peer = `${root}test/support/grpc-peer.mjs`;
const dualApp = `${root}test/support/h1-or-h2c-app.mjs`;
let work = "";
let a: Sidecar;
let v1: Sidecar;
let v2: Sidecar;
let down: Sidecar;

const strictPolicy = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: default }
spec:
  selector: { matchLabels: { mtls: strict } }
  mtls: { mode: STRICT }
`;

const endpoint = (sidecar: Sidecar, version: string) => `  - { address: 127.0.0.1, ports: { grpc: ${sidecar.inbound!.split(":")[1]}, http: ${sidecar.inbound!.split(":")[1]} }, labels: { app: echo, version: ${version} }, serviceAccount: echo }`;

const mesh = () => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc, protocol: GRPC }]
  endpoints:
${endpoint(v1, "v1")}
${endpoint(v2, "v2")}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
${endpoint(v1, "v1")}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: flaky, namespace: default }
spec:
  hosts: [flaky.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc, protocol: GRPC }]
  endpoints:
${endpoint(down, "down")}
${endpoint(v1, "v1")}
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
kind: DestinationRule
metadata: { name: flaky, namespace: default }
spec:
  host: flaky.default.svc.cluster.local
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  http:
  - match: [{ headers: { x-route: { exact: v2 } } }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - route: [{ destination: { host: echo.default.svc.cluster.local, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: flaky, namespace: default }
spec:
  hosts: [flaky.default.svc.cluster.local]
  http:
  - retries: { attempts: 3, retryOn: unavailable }
    route: [{ destination: { host: flaky.default.svc.cluster.local } }]
`;

/** a sidecar whose app is a grpc-peer server named name, behind an app that also answers HTTP/1.1 */
async function backend(name: string, config: string, labels: string): Promise<Sidecar> {
  const grpc = startProcess(peer, ["server", name]);
  const [, grpcPort] = await grpc.waitFor(/listening (\d+)/);
  const app = startProcess(dualApp, [name, grpcPort]);
  const [, appPort] = await app.waitFor(/listening (\d+)/);
  return startSidecar(config, ["--app", `127.0.0.1:${appPort}`, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "echo", "--labels", labels]);
}

/** the gRPC client through A's outbound port: case name → its JSON result */
async function calls(authority: string, ...cases: string[]): Promise<Record<string, any>> {
  const { code, out } = await run("node", [peer, "client", a.outbound, authority, ...cases]);
  assert.is(code, 0, out);
  const results: Record<string, any> = {};
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    if (cases.includes(line.slice(0, space))) results[line.slice(0, space)] = JSON.parse(line.slice(space + 1));
  }
  assert.equal(Object.keys(results).sort(), [...cases].sort(), out);
  return results;
}

/** the pool of A's cluster for echo's gRPC port (subset v1), from the admin API */
async function echoPool(): Promise<{ opened: number; connections: number }> {
  const r = await curl([`http://${a.admin}/clusters`]);
  const text = r.body;
  const clusters: any[] = JSON.parse(text).clusters ?? JSON.parse(text);
  const cluster = clusters.find((c) => c.service === "echo.default.svc.cluster.local" && c.port === 9000 && c.subset === "v1");
  assert.ok(cluster?.stats, text);
  return cluster.stats.pool;
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-h2mtls-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "curl", "--out", `${work}/curl`]);
  const bConfig = await tempConfig({ "policy.yaml": strictPolicy });
  [v1, v2, down] = await Promise.all([
    backend("v1", bConfig, "app=echo,version=v1,mtls=strict"),
    backend("v2", bConfig, "app=echo,version=v2"),
    backend("down", bConfig, "app=echo,version=down,mtls=strict"),
  ]);
  const aConfig = await tempConfig({ "mesh.yaml": mesh() });
  a = await startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a"]);
});

test.after(async () => {
  stopAll();
  await platform.remove(work);
});

test("grpc-js through the pair: unary with metadata and trailers, both streaming kinds, bidi, NOT_FOUND with its message", async () => {
  const r = await calls("echo.default.svc.cluster.local:9000", "unary", "server-stream", "client-stream", "bidi", "notfound");
  assert.is(r.unary.reply.name, "v1", JSON.stringify(r.unary));
  assert.is(r.unary.reply.metadata["x-hello"], "world");
  assert.is(r.unary.reply.metadata["x-token-bin"], "hex:deadbeef");
  assert.is(r.unary.initial, "v1");
  assert.is(r.unary.trailer, "late");
  assert.is(r.unary.trailerBin, "000102ff");
  assert.equal(r["server-stream"].got, [0, 1, 2, 3, 4]);
  assert.equal(r["client-stream"].reply, { name: "v1", count: 10, sum: 55 });
  assert.equal(r.bidi.got, [1, 2, 3, 4, 5]);
  assert.is(r.notfound.error.code, 5);
  assert.is(r.notfound.error.details, "no such thing: naïve 100%");
  assert.is(r.notfound.error.trailer, "late");
});

test("a metadata header picks the subset (the PERMISSIVE sidecar serves h2 too)", async () => {
  const r = await calls("echo.default.svc.cluster.local:9000", "route-v2", "unary");
  assert.is(r["route-v2"].reply.name, "v2", JSON.stringify(r));
  assert.is(r.unary.reply.name, "v1", JSON.stringify(r));
});

test("retryOn unavailable: calls answered UNAVAILABLE by one host move to the healthy one", async () => {
  const results = [];
  for (let i = 0; i < 4; i++) results.push((await calls("flaky.default.svc.cluster.local:9000", "unary")).unary);
  for (const r of results) assert.is(r.reply?.name, "v1", JSON.stringify(r));
  assert.ok(results.some((r) => r.attempts === "2"), JSON.stringify(results));
});

test("h2load: 100 concurrent streams over one client connection, carried by one mTLS connection per peer", async () => {
  const before = await echoPool();
  const message = JSON.stringify({ text: "load" });
  const frame = `${work}/unary.bin`;
  await platform.writeTextFile(frame, "\x00\x00\x00\x00" + String.fromCharCode(message.length) + message);
  const { code, out } = await run("h2load", ["-n", "2000", "-c", "1", "-m", "100", "-H", ":authority: echo.default.svc.cluster.local:9000", "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", frame, `http://${a.outbound}/dm.Echo/Unary`]);
  assert.is(code, 0, out);
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  assert.ok(m, out);
  assert.is(Number(m![4]), 2000, out);
  assert.is(Number(m![5]), 0, out);
  // the streams were multiplexed between the sidecars: no new connection to v1 for them
  const after = await echoPool();
  assert.is(after.opened, before.opened, JSON.stringify({ before, after }));
  assert.is(after.connections, 1, JSON.stringify(after));
});

test("HTTP/1.1 over the same pair: an HTTP port still goes as HTTP/1.1 inside mTLS, and on to the app as HTTP/1.1", async () => {
  const r = await curl(["-H", "Host: web.default.svc.cluster.local:8080", `http://${a.outbound}/plain?x=1`]);
  assert.is(r.status, 200, r.body);
  assert.is(r.body, "h1 v1 /plain?x=1 1.1");
});

test("the caller's principal and gRPC reach the destination's metrics", async () => {
  const text = await eventually(async () => {
    const t = (await curl([`http://${v1.admin}/stats/prometheus`])).body;
    const line = t.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="destination"') && l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="5"'));
    return line;
  }, 5000, "a destination series for the NOT_FOUND call");
  assert.match(text, /source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/a"/);
  assert.match(text, /connection_security_policy="mutual_tls"/);
});

test("the inbound port offers h2 by ALPN to any mesh client (curl --cert), HTTP/1.1 to one that asks for it; not gRPC: HTTP/1.1 to the app", async () => {
  const cert = ["-s", "-k", "--cert", `${work}/curl/cert-chain.pem`, "--key", `${work}/curl/key.pem`, "-H", "Host: web.default.svc.cluster.local:8080", "-w", "\\n%{http_code} %{http_version}"];
  const h1 = await run("curl", [...cert, "--http1.1", `https://${v1.inbound}/alpn`]);
  assert.is(h1.out, "h1 v1 /alpn 1.1\n200 1.1", h1.out);
  // h2 from curl, HTTP/1.1 on to the app (not a gRPC call)
  const h2 = await run("curl", [...cert, "--http2", `https://${v1.inbound}/alpn`]);
  assert.is(h2.out, "h1 v1 /alpn 1.1\n200 2", h2.out);
});

test("STRICT refuses plaintext, HTTP/1.1 and h2c prior knowledge alike", async () => {
  for (const extra of [[], ["--http2-prior-knowledge"]]) {
    const r = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", ...extra, `http://${v1.inbound}/`]);
    assert.is(r.out, "000", r.out);
    assert.ok(r.code !== 0, r.out);
  }
});

test.run();
