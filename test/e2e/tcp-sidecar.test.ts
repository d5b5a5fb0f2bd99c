// End to end, TCP through sidecars (issue 12 item 4): the app opens a byte tunnel with CONNECT on
// its sidecar's outbound listener to a service port declared TCP. Istio's TCP traffic shifting
// (tcp-echo v1/v2, 80/20 by a mesh-bound tcp route) over 100 connections through one sidecar; TCP
// over the mTLS pair (CONNECT inside mTLS to the peer's inbound port) for a peer an
// AuthorizationPolicy allows, refused for one it does not; STRICT refuses a plaintext tunnel; the
// destination sidecar reports istio_tcp_* with the source principal.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, must, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

/** tcp-echo: the first chunk is answered with the version prefix, every chunk echoed; after the client's FIN, "bye\n" */
function startEcho(version: string): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    let first = true;
    socket.on("data", (chunk) => {
      if (first) socket.write(`${version} `);
      first = false;
      socket.write(chunk);
    });
    socket.on("end", () => socket.end("bye\n"));
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}

interface Tunnel {
  /** the status line of the CONNECT answer, "" when the connection closed first */
  status: string;
  /** bytes after the answer's head, until the connection closed */
  text: string;
}

/**
 * CONNECT authority through proxy, send message once established, close once it came back echoed
 * (the HTTP listener's tunnel ends at the client's FIN: a reply after it would be lost), read to the end
 */
function tunnel(proxy: string, authority: string, message: string): Promise<Tunnel> {
  const [host, port] = proxy.split(":");
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port), allowHalfOpen: true } as net.NetConnectOpts, () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let raw = "";
    let status = "";
    socket.on("data", (d) => {
      raw += d;
      if (!status && raw.includes("\r\n\r\n")) {
        status = raw.split("\r\n")[0];
        raw = raw.slice(raw.indexOf("\r\n\r\n") + 4);
        if (/ 200 /.test(status)) socket.write(message);
        else socket.end();
      }
      if (status && raw.endsWith(message)) socket.end();
    });
    socket.on("error", () => {});
    // the far side finished: finish ours too (allowHalfOpen keeps a closed-by-peer socket open
    // otherwise — on Deno a refused plaintext connection ends with a FIN, on Bun with a reset)
    socket.on("end", () => socket.end());
    // a bound, not a timing assertion: a tunnel that never closes fails its test instead of hanging the file
    socket.setTimeout(15_000, () => {
      status = status || "(no answer, still open)";
      socket.destroy();
    });
    socket.on("close", () => resolve({ status, text: status ? raw : "" }));
  });
}

const echoYaml = (one: number, two: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: [tcp-echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints:
  - { address: 127.0.0.1, ports: { tcp: ${one} }, labels: { app: tcp-echo, version: v1 } }
  - { address: 127.0.0.1, ports: { tcp: ${two} }, labels: { app: tcp-echo, version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: tcp-echo, namespace: default }
spec:
  host: tcp-echo.default.svc.cluster.local
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: [tcp-echo.default.svc.cluster.local]
  tcp:
  - match: [{ port: 9000 }]
    route:
    - { destination: { host: tcp-echo.default.svc.cluster.local, port: { number: 9000 }, subset: v1 }, weight: 80 }
    - { destination: { host: tcp-echo.default.svc.cluster.local, port: { number: 9000 }, subset: v2 }, weight: 20 }
`;

const bPolicies = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  mtls: { mode: STRICT }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: only-allowed, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: [cluster.local/ns/default/sa/allowed] } }]
    to: [{ operation: { ports: ["APP_PORT"] } }]
  - from: [{ source: { principals: [cluster.local/ns/default/sa/other] } }]
    to: [{ operation: { methods: [GET] } }]
`;

const bService = (inbound: string) => {
  const [address, port] = inbound.split(":");
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: b, namespace: default }
spec:
  hosts: [b.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: ${address}, ports: { tcp: ${port} }, labels: { app: b }, serviceAccount: b }]
`;
};

let work = "";
const echoes: net.Server[] = [];
let plain: Sidecar; // no identity: CONNECT → tcp-echo v1/v2 directly
let b: Sidecar; // STRICT, an ALLOW policy for sa "allowed"
let allowed: Sidecar;
let other: Sidecar;

/** b's app (the "three" echo) */
let bAppPort = 0;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-tcp-sidecar-");
  const [one, two, three] = await Promise.all([startEcho("one"), startEcho("two"), startEcho("three")]);
  bAppPort = three.port;
  echoes.push(one.server, two.server, three.server);
  plain = await startSidecar(await tempConfig({ "echo.yaml": echoYaml(one.port, two.port) }));
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const ca = ["--ca-dir", `${work}/ca`];
  b = await startSidecar(await tempConfig({ "policy.yaml": bPolicies.replace("APP_PORT", String(three.port)) }), ["--app", `127.0.0.1:${three.port}`, "--inbound", "127.0.0.1:0", ...ca, "--service-account", "b", "--labels", "app=b", "--access-log", "json"]);
  const clients = await tempConfig({ "b.yaml": bService(b.inbound!) });
  [allowed, other] = await Promise.all([startSidecar(clients, [...ca, "--service-account", "allowed", "--access-log", "json"]), startSidecar(clients, [...ca, "--service-account", "other"])]);
});

test.after(async () => {
  stopAll();
  for (const s of echoes) s.close();
  await platform.remove(work);
});

test("Istio's TCP traffic shifting through one sidecar: 80/20 over 100 CONNECT tunnels, within ±12 points", async () => {
  const counts: Record<string, number> = { one: 0, two: 0 };
  for (let i = 0; i < 100; i++) {
    const r = await tunnel(plain.outbound, "tcp-echo:9000", `hello ${i}\n`);
    assert.match(r.status, / 200 /, r.status);
    const version = r.text.split(" ")[0];
    assert.ok(version in counts, r.text);
    assert.ok(r.text.startsWith(`${version} hello ${i}\n`), r.text);
    counts[version]++;
  }
  assert.ok(Math.abs(counts.one - 80) <= 12, JSON.stringify(counts));
  const metrics = (await curl([`http://${plain.admin}/stats/prometheus`])).body;
  const opened = /istio_tcp_connections_opened_total\{[^}]*reporter="source"[^}]*destination_service="tcp-echo\.default\.svc\.cluster\.local"[^}]*\} (\d+)/g;
  let total = 0;
  for (const m of metrics.matchAll(opened)) total += Number(m[1]);
  assert.is(total, 100, metrics);
});

test("a TCP port with no service behind the name: 404, nothing tunnelled", async () => {
  const r = await tunnel(plain.outbound, "nowhere.example:9000", "x");
  assert.match(r.status, / 404 /);
});

test("TCP over the mTLS pair: an allowed peer's bytes reach b's app, and b reports the peer's principal", async () => {
  const r = await tunnel(allowed.outbound, "b:9000", "over mtls\n");
  assert.match(r.status, / 200 /, r.status);
  assert.ok(r.text.startsWith("three over mtls\n"), r.text);
  await eventually(async () => {
    const metrics = (await curl([`http://${b.admin}/stats/prometheus`])).body;
    return /istio_tcp_connections_closed_total\{[^}]*reporter="destination"[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/allowed"[^}]*connection_security_policy="mutual_tls"[^}]*\} 1/.test(metrics) || undefined;
  }, 5000, "destination TCP metrics with the source principal");
  // and one access-log line for the connection, as Envoy's inbound TCP proxy writes it
  const line = await eventually(async () => b.child.lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((e) => e?.upstream_cluster === `inbound|${bAppPort}||` && e.response_flags === "-" && e.bytes_received > 0), 5000, "b's access-log line for the tunnel");
  assert.is(line.bytes_received, "over mtls\n".length);
  assert.ok(line.bytes_sent >= "three over mtls\n".length, String(line.bytes_sent));
  assert.is(line.upstream_host, `127.0.0.1:${bAppPort}`);
  // the calling side's line names the listener the app connected to (it was ":0")
  const out = await eventually(async () => allowed.child.lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((e) => e?.bytes_sent > 0 && e.upstream_cluster?.startsWith("outbound|9000")), 5000, "allowed's access-log line");
  assert.is(out.downstream_local_address, allowed.outbound);
});

test("TCP over the mTLS pair is refused to a peer the AuthorizationPolicy does not allow (its rule names methods: HTTP-only, so it allows no TCP)", async () => {
  const r = await tunnel(other.outbound, "b:9000", "let me in\n");
  assert.not.match(r.status, / 200 /);
  assert.is(r.text, "");
  assert.ok(!r.text.includes("three"));
  const line = await eventually(async () => b.child.lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((e) => typeof e?.connection_termination_details === "string" && e.connection_termination_details.startsWith("rbac_access_denied_matched_policy[")), 5000, "b's access-log line for the refused tunnel");
  assert.is(line.bytes_received, 0);
});

test("STRICT: a plaintext tunnel straight to b's inbound port is closed without an answer", async () => {
  const r = await tunnel(b.inbound!, "b:9000", "plain\n");
  assert.is(r.status, "");
});

test.run();
