// End to end, a `resolution: NONE` ServiceEntry without endpoints (the default, Istio's egress
// entry): Istio passes the connection to the address the app dialled; dietmesh, called by name,
// connects to the request's own authority, resolved as DNS entries are (the first address, through
// --dns-server here). The name resolves to 127.0.0.2, where the only server listens.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

let dns: DnsServer;
let sidecar: Sidecar;
let port: number;
let server: { stop(): unknown };

test.before(async () => {
  dns = await startDnsServer();
  const s = platform.serve({ hostname: "127.0.0.2", port: 0, handler: (req) => new Response(`egress ${new URL(req.url).pathname} ${req.headers.get("host")}`) });
  server = s as unknown as { stop(): unknown };
  port = s.port;
  dns.set("egress.test", { a: [{ address: "127.0.0.2", ttl: 60 }] });
  const config = await tempConfig({
    "egress.yaml": `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: egress }
spec:
  hosts: [egress.test]
  location: MESH_EXTERNAL
  ports: [{ number: ${port}, name: http, protocol: HTTP }]
`,
  });
  sidecar = await startSidecar(config, ["--dns-server", dns.address, "--outbound-traffic-policy", "REGISTRY_ONLY"]);
});

test.after(async () => {
  stopAll();
  server.stop();
  await dns.close();
});

test("the request's authority is resolved and called: one endpoint at its address, in /clusters", async () => {
  await eventually(async () => {
    const clusters = (await (await fetch(`http://${sidecar.admin}/clusters`)).json()) as { service: string; endpoints: { address: string }[] }[];
    return clusters.find((c) => c.service === "egress.test")?.endpoints.map((e) => e.address).join() === `127.0.0.2:${port}`;
  }, 8000, "egress.test resolved");
  const r = await curl(["-H", `Host: egress.test:${port}`, `http://${sidecar.outbound}/hello`]);
  assert.is(r.status, 200, r.body);
  assert.is(r.body, `egress /hello egress.test:${port}`);
});

test.run();
