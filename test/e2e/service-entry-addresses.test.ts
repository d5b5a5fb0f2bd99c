// End to end, a ServiceEntry's addresses (Istio's VIPs): dietmesh captures no traffic, so an address
// is one more name an app may call the service by — a Host header naming it routes to the
// service's endpoints, and so does CONNECT address:port to its TCP port. Nothing connects to the
// address itself (127.0.0.2 below has nothing listening).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { curl, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const app = startEcho("shop");
let tcpEcho: net.Server;
let sidecar: Sidecar;

test.before(async () => {
  tcpEcho = net.createServer((socket) => socket.on("data", (d) => socket.write(`echo ${d}`)).on("error", () => {}));
  await new Promise<void>((resolve) => tcpEcho.listen(0, "127.0.0.1", resolve));
  const tcpPort = (tcpEcho.address() as net.AddressInfo).port;
  const [, httpPort] = app.address.split(":");
  const config = await tempConfig({
    "shop.yaml": `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: shop, namespace: default }
spec:
  hosts: [shop.internal]
  addresses: [127.0.0.2, "fd00::7/128"]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }, { number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${httpPort}, tcp: ${tcpPort} } }]
`,
  });
  sidecar = await startSidecar(config);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  tcpEcho.close();
});

test("a Host header naming an address reaches the service (IPv4 and IPv6)", async () => {
  for (const host of ["127.0.0.2:8080", "[fd00::7]:8080"]) {
    const r = await curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/by-vip`]);
    assert.is(r.status, 200, `${host}: ${r.status} ${r.body}`);
    assert.is(r.headers["x-echo"], "shop", host);
  }
  const other = await curl(["-H", "Host: 127.0.0.3:8080", `http://${sidecar.outbound}/by-vip`]);
  assert.is(other.status, 404, "an address no ServiceEntry lists is no route");
});

test("CONNECT to an address and the TCP port tunnels to the service", async () => {
  const [host, port] = sidecar.outbound.split(":");
  const text = await new Promise<string>((resolve) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write("CONNECT 127.0.0.2:9000 HTTP/1.1\r\nHost: 127.0.0.2:9000\r\n\r\n"));
    let raw = "";
    socket.on("data", (d) => {
      raw += d;
      if (raw.includes("\r\n\r\n") && !raw.includes("ping")) socket.write("ping");
      if (raw.endsWith("echo ping")) socket.end();
    });
    socket.on("error", () => {});
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("close", () => resolve(raw));
  });
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.ok(text.endsWith("echo ping"), text);
});

test.run();
