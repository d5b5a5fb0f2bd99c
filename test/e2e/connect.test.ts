// End to end, HTTP CONNECT with curl's proxy tunnel (-p), the way apps behind HTTP_PROXY open
// tunnels: on a sidecar's outbound listener a tunnel to an HTTP service port ends at the proxy and
// the requests inside are routed (VirtualService rules apply: a directResponse route answers);
// an unknown destination is 404, a TCP port gets a byte tunnel (tcp-sidecar.test.ts), and a gateway
// refuses CONNECT (403).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runCommand } from "../../runtime/platform/process.ts";
import { curl, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";

const app = startEcho("tunnelled");
let sidecar: Sidecar;
let gateway: Gateway;

const ROUTES = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hello }
spec:
  hosts: [hello]
  http:
  - match: [{ uri: { prefix: /direct } }]
    directResponse: { status: 200, body: { string: answered-by-route } }
  - route: [{ destination: { host: hello } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: default }
spec:
  hosts: [db.example]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 5432, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1 }]
`;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: front }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`;

test.before(async () => {
  const config = await tempConfig({ "hello.yaml": serviceEntry("hello", "hello.default.svc.cluster.local", [{ address: app.address }]), "routes.yaml": ROUTES });
  [sidecar, gateway] = await Promise.all([startSidecar(config), startGateway(await tempConfig({ "gateway.yaml": GATEWAY }))]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
});

/** curl through the outbound listener as an HTTP proxy, tunnelling with CONNECT */
const tunnelled = (proxy: string, url: string) => curl(["-p", "--suppress-connect-headers", "-x", `http://${proxy}`, url]);

test("CONNECT to an HTTP service port: 200, then the requests inside are routed like any other", async () => {
  const r = await tunnelled(sidecar.outbound, "http://hello:8080/inside?q=1");
  assert.is(r.status, 200, r.body);
  const seen = JSON.parse(r.body);
  assert.is(seen.name, "tunnelled");
  assert.ok(seen.url.endsWith("/inside?q=1"), seen.url);
  assert.is(seen.headers.host, "hello:8080");
  const direct = await tunnelled(sidecar.outbound, "http://hello:8080/direct");
  assert.is(direct.body, "answered-by-route", "the VirtualService's directResponse route answered inside the tunnel");
});

/** the status line curl printed for the CONNECT itself (-v shows the proxy's answer) */
async function connectStatus(proxy: string, url: string): Promise<number> {
  const child = runCommand("curl", ["-s", "-v", "-p", "-x", `http://${proxy}`, "--max-time", "10", url]);
  await child.exited;
  const line = child.lines.find((l) => /^< HTTP\/1\.1 \d{3}/.test(l));
  assert.ok(line, child.lines.join("\n"));
  return Number(/^< HTTP\/1\.1 (\d{3})/.exec(line!)![1]);
}

test("CONNECT to a host the mesh does not know: 404 (no route), nothing sent", async () => {
  const before = app.requests.length;
  assert.is(await connectStatus(sidecar.outbound, "http://unknown.example:8080/"), 404);
  assert.is(app.requests.length, before);
});

test("CONNECT to a TCP service port opens a byte tunnel, never HTTP: nothing listens there, so 503 (UF) and no 200", async () => {
  assert.is(await connectStatus(sidecar.outbound, "http://db.example:5432/"), 503);
});

test("a gateway refuses CONNECT (403, Envoy's upgrade_failed)", async () => {
  assert.is(await connectStatus(gateway.port80, "http://hello:8080/"), 403);
});

test.run();
