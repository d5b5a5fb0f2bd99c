// End to end, DNS ServiceEntries (issue 13): a sidecar pointed at a test DNS server with
// --dns-server resolves `resolution: DNS` hosts into one endpoint per address (two apps on
// 127.0.0.1 and 127.0.0.2, same port, both served), `DNS_ROUND_ROBIN` into the first address only,
// follows a changed answer after the TTL, and keeps the last good addresses while the server fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

let dns: DnsServer;
let sidecar: Sidecar;
let port: number;
const servers: { stop(): unknown }[] = [];

function echo(hostname: string, port: number, name: string) {
  const server = platform.serve({ hostname, port, handler: () => new Response(name, { headers: { "x-echo": name } }) });
  servers.push(server as unknown as { stop(): unknown });
  return server;
}

const entry = (name: string, host: string, resolution: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: ${resolution}
  ports: [{ number: ${port}, name: http, protocol: HTTP }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${host}
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
`;

test.before(async () => {
  dns = await startDnsServer();
  const first = echo("127.0.0.1", 0, "one");
  port = first.port;
  echo("127.0.0.2", port, "two");
  dns.set("ext.test", { a: [{ address: "127.0.0.1", ttl: 1 }, { address: "127.0.0.2", ttl: 1 }] });
  dns.set("rr.test", { a: [{ address: "127.0.0.2", ttl: 60 }, { address: "127.0.0.1", ttl: 60 }] });
  const config = await tempConfig({ "ext.yaml": entry("ext", "ext.test", "DNS"), "rr.yaml": entry("rr", "rr.test", "DNS_ROUND_ROBIN") });
  sidecar = await startSidecar(config, ["--dns-server", dns.address]);
});

test.after(async () => {
  stopAll();
  for (const s of servers) s.stop();
  await dns.close();
});

async function endpoints(host: string): Promise<string[]> {
  const clusters = (await (await fetch(`http://${sidecar.admin}/clusters`)).json()) as { service: string; endpoints: { address: string }[] }[];
  return clusters.find((c) => c.service === host)?.endpoints.map((e) => e.address).sort() ?? [];
}

async function answers(host: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await curl(["-H", `Host: ${host}:${port}`, `http://${sidecar.outbound}/`]);
    assert.is(r.status, 200, r.body);
    out.push(r.body);
  }
  return out;
}

test("DNS: every address is an endpoint of its own, in /clusters and /config_dump, and both are served", async () => {
  assert.equal(await endpoints("ext.test"), [`127.0.0.1:${port}`, `127.0.0.2:${port}`]);
  const dump = (await (await fetch(`http://${sidecar.admin}/config_dump`)).json()) as { proxy: { dns: { name: string; addresses: string[]; ttlSeconds: number }[] } };
  assert.equal(dump.proxy.dns.find((n) => n.name === "ext.test")?.addresses, ["127.0.0.1", "127.0.0.2"]);
  const seen = await answers("ext.test", 4);
  assert.equal([...new Set(seen)].sort(), ["one", "two"]);
});

test("DNS_ROUND_ROBIN: one endpoint, the first address of the answer", async () => {
  assert.equal(await endpoints("rr.test"), [`127.0.0.2:${port}`]);
  assert.equal(await answers("rr.test", 3), ["two", "two", "two"]);
});

test("a changed answer is picked up after its TTL; while the server fails, the last good addresses stay", async () => {
  dns.set("ext.test", { a: [{ address: "127.0.0.2", ttl: 1 }] });
  await eventually(async () => (await endpoints("ext.test")).length === 1, 8000, "ext.test re-resolved");
  assert.equal(await endpoints("ext.test"), [`127.0.0.2:${port}`]);
  assert.equal(await answers("ext.test", 2), ["two", "two"]);
  dns.failing = true;
  const asked = dns.queries("ext.test");
  await dns.waitForQuery("ext.test", asked + 1); // A and AAAA of one more resolution, both refused
  assert.equal(await endpoints("ext.test"), [`127.0.0.2:${port}`]);
  assert.equal(await answers("ext.test", 1), ["two"]);
  dns.failing = false;
});

test.run();
