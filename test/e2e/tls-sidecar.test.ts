// End to end, outbound TLS by SNI through a sidecar (issue 13 item 2): an app calling
// https://api.example.com through HTTP_PROXY (curl -x) sends CONNECT to the sidecar's outbound
// listener; the ServiceEntry port is declared HTTPS (or TLS), so the tunnel carries the app's own
// TLS as bytes to the local TLS server behind it and curl verifies that server's certificate with
// --cacert. With no tls route the CONNECT authority decides; with a `tls` route naming the host,
// the SNI read inside the tunnel chooses it (always subset v2 here, though the service has two
// endpoints); an unknown host is 404 before any TLS; Istio's TCP metrics and the access log show
// the SNI and the route.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tls from "node:tls";
import * as net from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { eventually, must, run, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

let work: string;
let sidecar: Sidecar;
const backends: tls.Server[] = [];
const backendPorts: Record<string, number> = {};

async function issue(name: string): Promise<void> {
  await must("sh", ["-c", [
    `openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${name} -keyout ${work}/${name}.key -out ${work}/${name}.csr 2>/dev/null`,
    `printf 'subjectAltName=DNS:api.example.com,DNS:shop.example.com\\n' > ${work}/${name}.ext`,
    `openssl x509 -req -in ${work}/${name}.csr -CA ${work}/ca.crt -CAkey ${work}/ca.key -CAcreateserial -days 1 -extfile ${work}/${name}.ext -out ${work}/${name}.crt 2>/dev/null`,
  ].join(" && ")]);
}

/** an HTTPS server of the simplest kind: whatever is asked, it answers its name and the SNI it saw, and closes */
async function startBackend(name: string): Promise<void> {
  const server = tls.createServer({ key: await platform.readTextFile(`${work}/${name}.key`), cert: await platform.readTextFile(`${work}/${name}.crt`) }, (socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      const body = `${name} ${(socket as unknown as { servername?: string }).servername ?? "-"}`;
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  backends.push(server);
  backendPorts[name] = (server.address() as net.AddressInfo).port;
}

const meshYaml = () => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  endpoints: [{ address: 127.0.0.1, ports: { https: ${backendPorts["backend-one"]} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: shop, namespace: default }
spec:
  hosts: [shop.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints:
  - { address: 127.0.0.1, ports: { tls: ${backendPorts["backend-one"]} }, labels: { version: v1 } }
  - { address: 127.0.0.1, ports: { tls: ${backendPorts["backend-two"]} }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: shop, namespace: default }
spec:
  host: shop.example.com
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop, namespace: default }
spec:
  hosts: [shop.example.com]
  tls:
  - match: [{ sniHosts: [shop.example.com], port: 443 }]
    route: [{ destination: { host: shop.example.com, subset: v2 } }]
`;

/** curl through the sidecar as an app with HTTPS_PROXY would; the body, or the failure */
async function viaProxy(url: string): Promise<{ code: number; out: string }> {
  return run("curl", ["-s", "-S", "--max-time", "10", "-x", `http://${sidecar.outbound}`, "--cacert", `${work}/ca.crt`, url]);
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-tls-sidecar-");
  await must("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=test-ca", "-keyout", `${work}/ca.key`, "-out", `${work}/ca.crt`]);
  await issue("backend-one");
  await issue("backend-two");
  await startBackend("backend-one");
  await startBackend("backend-two");
  sidecar = await startSidecar(await tempConfig({ "mesh.yaml": meshYaml() }), ["--access-log", "json"]);
});

test.after(async () => {
  stopAll();
  for (const s of backends) s.close();
  await platform.remove(work);
});

test("curl -x sidecar https://api.example.com reaches the TLS server behind the ServiceEntry, its certificate verified", async () => {
  const r = await viaProxy("https://api.example.com/");
  assert.is(r.code, 0, r.out);
  assert.is(r.out, "backend-one api.example.com");
  const line = await eventually(async () => sidecar.child.lines.map((l) => (l.startsWith("{") ? JSON.parse(l) : null)).find((j) => j?.upstream_cluster === "outbound|443||api.example.com"), 5000, "an access log line for api.example.com");
  assert.is(line.response_flags, "-");
  assert.is(line.route_name, "api.example.com:443");
});

test("a tls route by SNI read inside the tunnel: every call to shop.example.com goes to subset v2", async () => {
  for (let i = 0; i < 10; i++) {
    const r = await viaProxy("https://shop.example.com/");
    assert.is(r.code, 0, r.out);
    // with two endpoints and no route, ten calls would all reach v2 once in 1,024 runs
    assert.is(r.out, "backend-two shop.example.com");
  }
  const line = await eventually(async () => sidecar.child.lines.map((l) => (l.startsWith("{") ? JSON.parse(l) : null)).find((j) => j?.requested_server_name === "shop.example.com"), 5000, "an access log line with the SNI");
  assert.is(line.route_name, "default/shop#tls0");
  assert.is(line.upstream_cluster, "outbound|443|v2|shop.example.com");
  const metrics = await (await fetch(`http://${sidecar.admin}/stats/prometheus`)).text();
  assert.match(metrics, /istio_tcp_connections_opened_total\{[^}]*destination_service="shop\.example\.com"[^}]*\} 10\b/);
});

test("an SNI the tls route does not name falls to the port's own cluster; a host no ServiceEntry declares is 404", async () => {
  // curl --connect-to keeps CONNECT shop.example.com:443 while its TLS asks for api.example.com
  const r = await run("curl", ["-s", "-S", "--max-time", "10", "-x", `http://${sidecar.outbound}`, "--cacert", `${work}/ca.crt`, "--connect-to", "api.example.com:443:shop.example.com:443", "https://api.example.com/"]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /^backend-(one|two) api\.example\.com$/);
  const line = await eventually(async () => sidecar.child.lines.map((l) => (l.startsWith("{") ? JSON.parse(l) : null)).find((j) => j?.requested_server_name === "api.example.com"), 5000, "the tunnel to shop with api's SNI in the log");
  assert.is(line.route_name, "shop.example.com:443");
  assert.match(line.upstream_cluster, /^outbound\|443\|\|shop\.example\.com$/);
  const missing = await run("curl", ["-s", "-S", "--max-time", "10", "-x", `http://${sidecar.outbound}`, "--cacert", `${work}/ca.crt`, "https://nowhere.example.com/"]);
  assert.is.not(missing.code, 0);
  assert.match(missing.out, /404/);
});

test.run();
