// Host confusion (issue 15, items 1 and 2), as raw bytes against real processes: a request whose
// Host holds a comma (two Host headers, which some servers join) is 400 with flag DPE, and an
// absolute-form target's authority, not the Host header, is what routing, AuthorizationPolicy
// hosts and the upstream's Host see (RFC 9112 §3.2.2). Every listener: the sidecar's outbound
// (also a forward proxy), the gateway, a plain inbound, and the mesh listener of identity-holding
// sidecars: PERMISSIVE in plaintext and over mTLS, and STRICT (mTLS: openssl s_client with a
// CA-issued certificate).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript } from "../../runtime/platform/process.ts";
import { defaultConnect } from "../../runtime/upstream/http1/index.ts";
import { cli, serviceEntry, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";
import { startTargetEcho, type EchoedRequest, type TargetEcho } from "../support/target-echo.ts";

let app: TargetEcho;
let work = "";
const dirs: string[] = [];
let outbound: Sidecar;
let gateway: Gateway;
let plainInbound: Sidecar;
let meshInbound: Sidecar;
let strictInbound: Sidecar;

const denyHosts = (selector: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-hosts, namespace: default }
spec:
  selector: { matchLabels: { ${selector} } }
  action: DENY
  rules: [{ to: [{ operation: { hosts: ["deny.wild.example", "b.wild.example"] } }] }]
`;

// mTLS only: on Bun a native TLS listener with dietmesh's own server, on Deno the mesh listener (node:tls)
const strict = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: default }
spec: { mtls: { mode: STRICT } }
`;

// on the outbound side, deny.wild.example has a route of its own: which route answered shows which host was routed
const wildRoutes = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: deny-host }
spec:
  hosts: [deny.wild.example]
  http: [{ directResponse: { status: 418 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: wild }
spec:
  hosts: ["*.wild.example"]
  http: [{ route: [{ destination: { host: echo.default.svc.cluster.local, port: { number: 8080 } } }] }]
`;

const gatewayRoutes = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: wild-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*.wild.example"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: wild }
spec:
  hosts: ["*.wild.example"]
  gateways: [wild-gateway]
  http: [{ route: [{ destination: { host: echo.default.svc.cluster.local, port: { number: 8080 } } }] }]
`;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parse(text: string): Reply {
  const split = text.indexOf("\r\n\r\n");
  if (!text.startsWith("HTTP/1.1 ") || split === -1) return { status: 0, headers: {}, body: text };
  const lines = text.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const c = line.indexOf(":");
    headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers["transfer-encoding"] === "chunked") {
    let out = "";
    for (;;) {
      const eol = body.indexOf("\r\n");
      const size = parseInt(body.slice(0, eol), 16);
      if (!(size > 0)) break;
      out += body.slice(eol + 2, eol + 2 + size);
      body = body.slice(eol + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(lines[0].split(" ")[1]), headers, body };
}

/** one request as raw bytes (Connection: close) on a fresh plaintext connection; the whole answer */
function raw(address: string, head: string): Promise<Reply> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      transport.destroy();
      resolve(parse(text));
    };
    // a guard against a hung test only: every answer here ends with the connection closing
    const timer = setTimeout(finish, 5000);
    const transport = defaultConnect(host, Number(port), {
      onOpen: () => void transport.write(new TextEncoder().encode(`${head}Connection: close\r\n\r\n`)),
      onData(chunk) {
        text += new TextDecoder().decode(chunk);
      },
      onDrain() {},
      onClose: finish,
    });
  });
}

/** the same over mTLS to the mesh listener, as sa curl (openssl s_client ends when the server closes) */
async function rawTls(address: string, head: string): Promise<Reply> {
  const cert = `-cert ${work}/as-curl/cert-chain.pem -key ${work}/as-curl/key.pem`;
  const bytes = `${head}Connection: close\r\n\r\n`.replace(/\r/g, "\\r").replace(/\n/g, "\\n");
  const child = runCommand("sh", ["-c", `printf '${bytes}' | openssl s_client -connect ${address} ${cert} -quiet -ign_eof 2>/dev/null`]);
  await child.exited;
  return parse(child.lines.map((line) => line.replace(/\r$/, "")).join("\r\n"));
}

async function dietmesh(args: string[]): Promise<void> {
  const child = runScript(cli, args);
  if ((await child.exited) !== 0) throw new Error(`dietmesh ${args.join(" ")}: ${child.lines.join("\n")}`);
}

test.before(async () => {
  app = await startTargetEcho();
  work = await platform.makeTempDir("dietmesh-host-");
  await dietmesh(["ca", "init", "--dir", `${work}/ca`]);
  await dietmesh(["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "curl", "--out", `${work}/as-curl`]);
  const echo = serviceEntry("echo", "echo.default.svc.cluster.local", [{ address: app.address }]);
  const outboundConfig = await tempConfig({ "echo.yaml": echo, "routes.yaml": wildRoutes });
  const gatewayConfig = await tempConfig({ "echo.yaml": echo, "routes.yaml": gatewayRoutes, "deny.yaml": denyHosts("istio: ingressgateway") });
  const inboundConfig = await tempConfig({ "deny.yaml": denyHosts("app: guarded") });
  const strictConfig = await tempConfig({ "deny.yaml": denyHosts("app: guarded"), "strict.yaml": strict });
  dirs.push(outboundConfig, gatewayConfig, inboundConfig, strictConfig);
  const inbound = ["--app", app.address, "--inbound", "127.0.0.1:0", "--labels", "app=guarded"];
  [outbound, gateway, plainInbound, meshInbound, strictInbound] = await Promise.all([
    startSidecar(outboundConfig),
    startGateway(gatewayConfig),
    startSidecar(inboundConfig, inbound),
    startSidecar(inboundConfig, [...inbound, "--ca-dir", `${work}/ca`]),
    startSidecar(strictConfig, [...inbound, "--ca-dir", `${work}/ca`]),
  ]);
});

test.after(async () => {
  stopAll();
  await app?.server.stop(true);
  for (const dir of [work, ...dirs]) if (dir) await platform.remove(dir);
});

/** every listener a client's bytes can reach, with how to send to it */
const listeners = (): [string, (head: string) => Promise<Reply>][] => [
  ["outbound", (head) => raw(outbound.outbound, head)],
  ["gateway", (head) => raw(gateway.port80, head)],
  ["plain inbound", (head) => raw(plainInbound.inbound!, head)],
  ["mesh inbound, plaintext", (head) => raw(meshInbound.inbound!, head)],
  ["mesh inbound, mTLS", (head) => rawTls(meshInbound.inbound!, head)],
  ["mesh inbound, STRICT", (head) => rawTls(strictInbound.inbound!, head)],
];

const seen = (r: Reply, what: string): EchoedRequest => {
  assert.is(r.status, 200, `${what}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
};

test("control: Host a.wild.example reaches the app on every listener", async () => {
  for (const [name, send] of listeners()) {
    const echoed = seen(await send("GET /x HTTP/1.1\r\nHost: a.wild.example\r\n"), name);
    assert.is(echoed.target, "/x", name);
    assert.is(echoed.headers.host, "a.wild.example", name);
  }
});

test("control: the STRICT port takes no plaintext (its rows above went over mTLS)", async () => {
  assert.is((await raw(strictInbound.inbound!, "GET /x HTTP/1.1\r\nHost: a.wild.example\r\n")).status, 0);
});

test("control: a DENY on the host holds where policies apply (gateway, inbound)", async () => {
  for (const [name, send] of listeners().slice(1)) {
    const r = await send("GET /x HTTP/1.1\r\nHost: b.wild.example\r\n");
    assert.is(r.status, 403, `${name}: ${r.status} ${r.body}`);
  }
});

test("two Host headers are 400 with flag DPE on every listener (Bun's server joined them and passed the DENY)", async () => {
  for (const [name, send] of listeners()) {
    const r = await send("GET /x HTTP/1.1\r\nHost: a.wild.example\r\nHost: b.wild.example\r\n");
    assert.is(r.status, 400, `${name}: ${r.status} ${r.body}`);
    assert.is(r.headers["x-dietmesh-response-flags"], "DPE", name);
  }
});

test("one Host value with a comma is 400 with flag DPE on every listener", async () => {
  for (const [name, send] of listeners()) {
    const r = await send("GET /x HTTP/1.1\r\nHost: a.wild.example, b.wild.example\r\n");
    assert.is(r.status, 400, `${name}: ${r.status} ${r.body}`);
    assert.is(r.headers["x-dietmesh-response-flags"], "DPE", name);
  }
});

test("absolute-form: the target's authority, not Host, is authorized (DENY on deny.wild.example → 403)", async () => {
  for (const [name, send] of listeners().slice(1)) {
    const r = await send("GET http://deny.wild.example/x HTTP/1.1\r\nHost: a.wild.example\r\n");
    assert.is(r.status, 403, `${name}: ${r.status} ${r.body}`);
    assert.is(r.body, "RBAC: access denied", name);
  }
});

test("absolute-form: the app gets an origin-form target and Host = the target's authority", async () => {
  for (const [name, send] of listeners()) {
    const echoed = seen(await send("GET http://a.wild.example/x?q=1 HTTP/1.1\r\nHost: deny.wild.example\r\n"), name);
    assert.is(echoed.target, "/x?q=1", name);
    assert.is(echoed.headers.host, "a.wild.example", name);
  }
});

test("outbound as a forward proxy: the absolute-form target's authority picks the route", async () => {
  // deny.wild.example has its own route (directResponse 418); Host names the wildcard route
  const r = await raw(outbound.outbound, "GET http://deny.wild.example/x HTTP/1.1\r\nHost: a.wild.example\r\n");
  assert.is(r.status, 418, `${r.status} ${r.body}`);
  // and the usual HTTP_PROXY request, Host and target agreeing, with a port
  const echoed = seen(await raw(outbound.outbound, "GET http://a.wild.example:80/p HTTP/1.1\r\nHost: a.wild.example:80\r\n"), "proxy");
  assert.is(echoed.target, "/p");
  assert.is(echoed.headers.host, "a.wild.example:80");
});

test("an absolute-form authority that cannot be one host (userinfo, comma) is 400", async () => {
  for (const [name, send] of listeners()) {
    for (const target of ["http://a.wild.example@deny.wild.example/x", "http://a.wild.example,deny.wild.example/x"]) {
      const r = await send(`GET ${target} HTTP/1.1\r\nHost: a.wild.example\r\n`);
      assert.is(r.status, 400, `${name} ${target}: ${r.status} ${r.body}`);
    }
  }
});

test("after all of that, no listener logged an internal error", () => {
  for (const child of [outbound.child, gateway.child, plainInbound.child, meshInbound.child, strictInbound.child]) {
    assert.is(child.lines.some((l) => /internal error|uncaught/i.test(l)), false, child.lines.join("\n"));
  }
});

test.run();
