// gRPC-Web end to end: a Gateway server declared GRPC-WEB translates, as Envoy's grpc_web filter
// does. curl plays the browser (gRPC-Web is a plain POST: the 5-byte-prefixed message is built
// here, base64 for -text), over HTTP/1.1 and over h2c; upstream is a real @grpc/grpc-js server
// (test/support/grpc-peer.mjs, JSON messages) on a ServiceEntry port declared GRPC, so the call goes
// out as gRPC over HTTP/2. Checked: the reply message, the trailer frame (grpc-status, grpc-message,
// the server's trailing metadata), a server's error, a Trailers-Only answer, the proxy's own local
// replies in gRPC-Web form, a plain request on the same port untouched, and the same gRPC-Web
// request on a plain HTTP port passed as it came.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { root, run, serviceEntry, startEcho, startGateway, startProcess, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const peer = `${root}test/support/grpc-peer.mjs`;
let gateway: Gateway;
let webPort: string; // 127.0.0.1:PORT of the GRPC-WEB server port
let config: string;
let echo: ReturnType<typeof startEcho>;

const yaml = (v1: string, down: string, plain: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc, protocol: GRPC }]
  endpoints: [{ address: 127.0.0.1, ports: { grpc: ${v1} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: down, namespace: default }
spec:
  hosts: [down.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: grpc-web, protocol: GRPC-WEB }]
  endpoints: [{ address: 127.0.0.1, ports: { grpc-web: ${down} } }]
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
${serviceEntry("plain", "plain.default.svc.cluster.local", [{ address: plain }])}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 8080, name: grpc-web, protocol: GRPC-WEB }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.example]
  gateways: [edge]
  http: [{ route: [{ destination: { host: echo.default.svc.cluster.local } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: down, namespace: default }
spec:
  hosts: [down.example]
  gateways: [edge]
  http: [{ route: [{ destination: { host: down.default.svc.cluster.local } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: gone, namespace: default }
spec:
  hosts: [gone.example]
  gateways: [edge]
  http: [{ route: [{ destination: { host: gone.default.svc.cluster.local } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: plain, namespace: default }
spec:
  hosts: [plain.example]
  gateways: [edge]
  http: [{ route: [{ destination: { host: plain.default.svc.cluster.local } }] }]
`;

const bytesOf = (text: string) => new TextEncoder().encode(text);
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** one gRPC message frame: flag 0, 4-byte big-endian length, the JSON message grpc-peer.mjs reads */
function messageFrame(message: unknown): Uint8Array {
  const body = bytesOf(JSON.stringify(message));
  const frame = new Uint8Array(5 + body.length);
  new DataView(frame.buffer).setUint32(1, body.length);
  frame.set(body, 5);
  return frame;
}

interface Frame {
  flag: number;
  bytes: Uint8Array;
}

function framesOf(body: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at < body.length; ) {
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    frames.push({ flag: body[at], bytes: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

/** base64 that may be several padded pieces one after another (Envoy encodes frame by frame) */
function decodePieces(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(...fromBase64(text.slice(i, i + 4)));
  return Uint8Array.from(out);
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

let calls = 0;
/** curl POSTs body (bytes as latin1 text) to address; the body comes back through base64 so binary survives */
async function post(address: string, host: string, body: string, headers: string[], extra: string[] = []): Promise<Answer> {
  const n = ++calls;
  const request = `${config}/request-${n}`;
  const head = `${config}/head-${n}`;
  await platform.writeTextFile(request, body);
  const args = ["curl", "-s", "--max-time", "10", "-D", head, "--data-binary", `@${request}`, "-H", `host: ${host}`, ...headers.flatMap((h) => ["-H", h]), ...extra, `http://${address}/dm.Echo/Unary`];
  const { code, out } = await run("bash", ["-c", `${args.map((a) => `'${a}'`).join(" ")} | base64 -w0`]);
  assert.is(code, 0, out);
  const blocks = (await platform.readTextFile(head)).replace(/\r/g, "").trim().split("\n\n");
  const lines = blocks[blocks.length - 1].split("\n");
  const parsed: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(":");
    parsed[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  return { status: Number(lines[0].split(" ")[1]), headers: parsed, body: fromBase64(out.trim()) };
}

const binary = (host: string, message: unknown, extra: string[] = []) =>
  post(webPort, host, latin1(messageFrame(message)), ["content-type: application/grpc-web+proto", "x-grpc-web: 1"], extra);
const text = (host: string, message: unknown, extra: string[] = []) =>
  post(webPort, host, btoa(latin1(messageFrame(message))), ["content-type: application/grpc-web-text", "accept: application/grpc-web-text"], extra);

/** the trailer frame's lines as a map */
function trailersOf(frame: Frame): Record<string, string> {
  assert.is(frame.flag, 0x80);
  const out: Record<string, string> = {};
  const text = new TextDecoder().decode(frame.bytes);
  assert.ok(text.endsWith("\r\n"), JSON.stringify(text));
  for (const line of text.split("\r\n").slice(0, -1)) out[line.slice(0, line.indexOf(":"))] = line.slice(line.indexOf(":") + 1);
  return out;
}

test.before(async () => {
  const v1 = startProcess(peer, ["server", "v1"]);
  const down = startProcess(peer, ["server", "down"]);
  const [[, p1], [, pDown]] = await Promise.all([v1.waitFor(/listening (\d+)/), down.waitFor(/listening (\d+)/)]);
  echo = startEcho("plain");
  config = await tempConfig({ "mesh.yaml": yaml(p1, pDown, echo.address) });
  gateway = await startGateway(config, ["--bind", "8080=127.0.0.1:0"]);
  [, webPort] = await gateway.child.waitFor(/gateway port 8080 listening on (\S+)/);
});

test.after(async () => {
  stopAll();
  await echo?.server.stop();
  await platform.remove(config);
});

for (const [name, extra] of [["HTTP/1.1", []], ["h2c", ["--http2-prior-knowledge"]]] as const) {
  test(`binary over ${name}: the reply message, then the trailers in a trailer frame`, async () => {
    const r = await binary("echo.example", { text: "hi" }, [...extra]);
    assert.is(r.status, 200);
    assert.is(r.headers["content-type"], "application/grpc-web+proto");
    assert.is(r.headers["x-served-by"], "v1"); // the server's initial metadata, in the head
    const frames = framesOf(r.body);
    assert.is(frames.length, 2, JSON.stringify(frames));
    assert.is(frames[0].flag, 0);
    const reply = JSON.parse(new TextDecoder().decode(frames[0].bytes));
    assert.is(reply.name, "v1");
    assert.is(reply.text, "hi");
    const trailers = trailersOf(frames[1]);
    assert.is(trailers["grpc-status"], "0");
    assert.is(trailers["x-trailer"], "late");
    assert.is(trailers["x-trailer-bin"], "AAEC/w==");
  });

  test(`text over ${name}: base64 both ways, each frame encoded on its own`, async () => {
    const r = await text("echo.example", { text: "written" }, [...extra]);
    assert.is(r.status, 200);
    assert.is(r.headers["content-type"], "application/grpc-web-text+proto");
    const body = new TextDecoder().decode(r.body);
    assert.match(body, /^[A-Za-z0-9+/=]+$/);
    const frames = framesOf(decodePieces(body));
    assert.is(JSON.parse(new TextDecoder().decode(frames[0].bytes)).text, "written");
    assert.is(trailersOf(frames[1])["grpc-status"], "0");
  });
}

test("a server's error: grpc-status and the percent-encoded grpc-message in the trailer frame", async () => {
  const r = await binary("echo.example", { text: "notfound" });
  assert.is(r.status, 200);
  const frames = framesOf(r.body);
  assert.is(frames.length, 1);
  const trailers = trailersOf(frames[0]);
  assert.is(trailers["grpc-status"], "5");
  // as the server percent-encoded it (grpc-js encodes spaces too)
  assert.is(decodeURIComponent(trailers["grpc-message"]), "no such thing: naïve 100%");
  assert.is(trailers["x-trailer"], "late");
});

test("a Trailers-Only answer keeps grpc-status in the head, with no body (upstream on a GRPC-WEB port, over HTTP/2)", async () => {
  const r = await binary("down.example", { text: "hi" });
  assert.is(r.status, 200);
  assert.is(r.headers["content-type"], "application/grpc-web+proto");
  assert.is(r.headers["grpc-status"], "14");
  assert.is(r.headers["grpc-message"], "down");
  assert.is(r.body.length, 0);
});

test("the proxy's local replies in gRPC-Web form: no healthy upstream, no route", async () => {
  const r = await binary("gone.example", { text: "hi" });
  // Envoy keeps the HTTP status and moves the body into grpc-message
  assert.is(r.status, 503);
  assert.is(r.headers["content-type"], "application/grpc-web+proto");
  assert.is(r.headers["grpc-status"], "14");
  assert.is(r.headers["grpc-message"], "no healthy upstream");
  assert.is(r.headers["x-dietmesh-response-flags"], "UH");
  assert.is(r.body.length, 0);
  const t = await text("gone.example", { text: "hi" }, ["--http2-prior-knowledge"]);
  assert.is(t.status, 503);
  assert.is(t.headers["content-type"], "application/grpc-web-text+proto");
  assert.is(t.headers["grpc-status"], "14");
  // no route: Envoy's reply has no body, so only its content-type changes (a gRPC-Web client reads 404 as UNIMPLEMENTED)
  const nr = await binary("nowhere.example", { text: "hi" });
  assert.is(nr.status, 404);
  assert.is(nr.headers["content-type"], "application/grpc-web+proto");
  assert.is(nr.headers["x-dietmesh-response-flags"], "NR");
});

for (const [name, extra] of [["HTTP/1.1", []], ["h2c", ["--http2-prior-knowledge"]]] as const) {
  test(`bad base64 in a text body over ${name}: Envoy's 400, in gRPC-Web form, for a bad character and for a bad length`, async () => {
    const good = btoa(latin1(messageFrame({ text: "hi" })));
    for (const body of ["!" + good.slice(1), good + "QQ"]) {
      const r = await post(webPort, "echo.example", body, ["content-type: application/grpc-web-text", "accept: application/grpc-web-text"], [...extra]);
      assert.is(r.status, 400, body);
      assert.is(r.headers["content-type"], "application/grpc-web-text+proto");
      assert.is(r.headers["grpc-status"], "13"); // Envoy's mapping of 400: INTERNAL
      assert.is(r.headers["grpc-message"], "Bad gRPC-web request, invalid base64 data.");
      // this hop refused the request: no flag of the upstream try it aborted
      assert.is(r.headers["x-dietmesh-response-flags"], undefined);
      assert.is(r.body.length, 0);
    }
  });
}

test("a request that is not gRPC-Web passes the GRPC-WEB port unchanged", async () => {
  const r = await post(webPort, "plain.example", '{"a":1}', ["content-type: application/json", "content-length: 7"]);
  assert.is(r.status, 200);
  assert.is(r.headers["content-type"], "application/json");
  const seen = JSON.parse(new TextDecoder().decode(r.body));
  assert.is(seen.headers["content-type"], "application/json");
  assert.is(seen.headers["content-length"], "7");
  assert.is(seen.body, '{"a":1}');
});

test("the upstream sees a gRPC request: content-type application/grpc, the text body decoded", async () => {
  const frame = latin1(messageFrame({ text: "hi" }));
  const r = await post(webPort, "plain.example", btoa(frame), ["content-type: application/grpc-web-text"]);
  // the echo app is not gRPC: its answer becomes grpc-status UNKNOWN with its body as grpc-message
  assert.is(r.headers["grpc-status"], "2");
  const seen = JSON.parse(decodeURIComponent(r.headers["grpc-message"]));
  assert.is(seen.headers["content-type"], "application/grpc");
  assert.is(seen.headers["grpc-accept-encoding"], "identity,deflate,gzip");
  assert.is(seen.body, frame);
});

test("on a plain HTTP port of the same gateway, gRPC-Web passes as it came", async () => {
  const frame = latin1(messageFrame({ text: "hi" }));
  const r = await post(gateway.port80, "plain.example", btoa(frame), ["content-type: application/grpc-web-text"]);
  assert.is(r.status, 200);
  const seen = JSON.parse(new TextDecoder().decode(r.body));
  assert.is(seen.headers["content-type"], "application/grpc-web-text");
  assert.is(seen.body, btoa(frame));
});

test.run();
