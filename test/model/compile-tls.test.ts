// compile-tls: `tls` routes by SNI from YAML (loadConfig → static registry → compile) — the most
// specific server name wins over order (Envoy's server_names), a passthrough server only answers
// its own hosts, sourceLabels and port narrow at config time, weights with a fixed random sequence,
// AUTO_PASSTHROUGH's cluster-name SNI, and a sidecar's TLS port (tls routes first, its own cluster last).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type ProxyIdentity } from "../../runtime/model/compile.ts";
import { findTcpRoute } from "../../runtime/model/compile-tcp.ts";
import { autoPassthroughSni, sniCandidates } from "../../runtime/model/compile-tls.ts";
import { memoryIO } from "../config/memory-io.ts";

const BASE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints:
  - { address: 10.0.0.1, labels: { version: v1 } }
  - { address: 10.0.0.2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web, namespace: default }
spec:
  host: web.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 443, name: tls, protocol: TLS }, hosts: [a.example, "*.b.example"], tls: { mode: PASSTHROUGH } }
  - { port: { number: 8443, name: https, protocol: HTTPS }, hosts: ["*"], tls: { mode: PASSTHROUGH } }
  - { port: { number: 15443, name: auto, protocol: TLS }, hosts: ["*.local"], tls: { mode: AUTO_PASSTHROUGH } }
---
`;

const GATEWAY: ProxyIdentity = { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } };

async function table(yaml: string, proxy: ProxyIdentity = GATEWAY, random = () => 0) {
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": BASE + yaml }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  return compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), proxy, { random, version: 1 });
}

const conn = (sni: string | undefined) => ({ sourceIp: "127.0.0.1", destinationIp: "127.0.0.1", sni });
const vs = (name: string, hosts: string, tls: string, created = "2026-01-01T00:00:00Z") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default, creationTimestamp: "${created}" }
spec:
  hosts: ${hosts}
  gateways: [edge]
  tls:
${tls}
---
`;

test("sniCandidates: the name, then each shorter *. suffix, then *", () => {
  assert.equal(sniCandidates("a.b.example.com"), ["a.b.example.com", "*.b.example.com", "*.example.com", "*.com", "*"]);
  assert.equal(sniCandidates("localhost"), ["localhost", "*"]);
  assert.is(autoPassthroughSni("r.default.svc.cluster.local", 9080, undefined), "outbound_.9080_._.r.default.svc.cluster.local");
  assert.is(autoPassthroughSni("r.default.svc.cluster.local", 9080, "v1"), "outbound_.9080_.v1_.r.default.svc.cluster.local");
});

test("passthrough ports are L4 ports read by SNI, not HTTP virtual hosts; the most specific name wins over order", async () => {
  const t = await table(
    vs("wide", `["*.b.example"]`, `  - match: [{ sniHosts: ["*.b.example"] }]\n    route: [{ destination: { host: web.default.svc.cluster.local, subset: v2 } }]`, "2026-01-01T00:00:00Z") +
      vs("narrow", `[x.b.example, a.example]`, `  - match: [{ sniHosts: [x.b.example] }]\n    route: [{ destination: { host: web.default.svc.cluster.local, subset: v1 } }]\n  - match: [{ sniHosts: [a.example], port: 8443 }]\n    route: [{ destination: { host: web.default.svc.cluster.local, subset: v1 } }]`, "2026-01-02T00:00:00Z"),
  );
  assert.equal([...t.gatewayPorts.keys()], []);
  assert.equal([...t.gatewayTcp.keys()].sort((x, y) => x - y), [443, 8443, 15443]);
  const p443 = t.gatewayTcp.get(443)!;
  assert.ok(p443.sni);
  assert.is(findTcpRoute(p443, conn("x.b.example"))?.name, "default/narrow#tls0");
  assert.is(findTcpRoute(p443, conn("y.x.b.example"))?.name, "default/wide#tls0");
  assert.is(findTcpRoute(p443, conn("y.b.example"))?.pick().subset, "v2");
  // no route for a.example on 443 (its match says 8443), no name, a name the server does not take
  assert.is(findTcpRoute(p443, conn("a.example")), undefined);
  assert.is(findTcpRoute(p443, conn(undefined)), undefined);
  assert.is(findTcpRoute(p443, conn("b.example")), undefined);
  assert.is(findTcpRoute(t.gatewayTcp.get(8443)!, conn("a.example"))?.name, "default/narrow#tls1");
});

test("weighted tls destinations follow the random sequence; sourceLabels match the gateway's own labels", async () => {
  let next = 0;
  const sequence = [0.1, 0.5, 0.69, 0.71, 0.99];
  const t = await table(
    vs("w", `[a.example]`, `  - match: [{ sniHosts: [a.example], sourceLabels: { istio: other } }]\n    route: [{ destination: { host: web.default.svc.cluster.local, subset: v2 } }]\n  - match: [{ sniHosts: [a.example] }]\n    route:\n    - { destination: { host: web.default.svc.cluster.local, subset: v1 }, weight: 70 }\n    - { destination: { host: web.default.svc.cluster.local, subset: v2 }, weight: 30 }`),
    GATEWAY,
    () => sequence[next++ % sequence.length],
  );
  const route = findTcpRoute(t.gatewayTcp.get(443)!, conn("a.example"))!;
  assert.is(route.name, "default/w#tls1");
  assert.equal(sequence.map(() => route.pick().subset), ["v1", "v1", "v1", "v2", "v2"]);
});

test("AUTO_PASSTHROUGH: outbound_.<port>_.<subset>_.<host> names the cluster, for the server's hosts only", async () => {
  const t = await table("");
  const auto = t.gatewayTcp.get(15443)!;
  assert.is(findTcpRoute(auto, conn("outbound_.443_.v2_.web.default.svc.cluster.local"))?.pick().name, "outbound|443|v2|web.default.svc.cluster.local");
  assert.is(findTcpRoute(auto, conn("outbound_.443_._.web.default.svc.cluster.local"))?.pick().name, "outbound|443||web.default.svc.cluster.local");
  assert.is(findTcpRoute(auto, conn("outbound_.443_.v3_.web.default.svc.cluster.local")), undefined);
  assert.is(findTcpRoute(auto, conn("outbound_.80_._.web.default.svc.cluster.local")), undefined);
  assert.is(findTcpRoute(auto, conn("web.default.svc.cluster.local")), undefined);
  // the other passthrough ports do not take cluster names
  assert.is(findTcpRoute(t.gatewayTcp.get(443)!, conn("outbound_.443_._.web.default.svc.cluster.local")), undefined);
});

test("a sidecar's TLS port: mesh tls routes by SNI first, the port's own cluster for other names; without tls routes no SNI is read", async () => {
  const sidecar: ProxyIdentity = { kind: "sidecar", namespace: "default", labels: { app: "client" } };
  const mesh = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: default }
spec:
  hosts: [web.default.svc.cluster.local]
  tls:
  - match: [{ sniHosts: [web.default.svc.cluster.local], port: 443 }]
    route: [{ destination: { host: web.default.svc.cluster.local, subset: v2 } }]
---
`;
  const routes = (await table(mesh, sidecar)).meshTcp.get("web.default.svc.cluster.local:443")!;
  assert.ok(routes.sni);
  assert.is(findTcpRoute(routes, conn("web.default.svc.cluster.local"))?.pick().subset, "v2");
  assert.is(findTcpRoute(routes, conn("other.example"))?.name, "web.default.svc.cluster.local:443");
  assert.is(findTcpRoute(routes, conn(undefined))?.name, "web.default.svc.cluster.local:443");
  const plain = (await table("", sidecar)).meshTcp.get("web.default.svc.cluster.local:443")!;
  assert.not.ok(plain.sni);
  assert.is(plain.routes.length, 1);
});

test.run();
