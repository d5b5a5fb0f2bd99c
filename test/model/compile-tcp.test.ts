// compile-tcp: the gateway's TCP routes from YAML (loadConfig → static registry → compile), picked
// with a fixed sequence of random numbers so weights can be checked exactly, and matched on the
// connection's addresses and the config-time selectors (port, gateways, sourceLabels, sourceNamespace).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { findTcpRoute, tcpGatewayPorts } from "../../runtime/model/compile-tcp.ts";
import { memoryIO } from "../config/memory-io.ts";

const BASE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints:
  - { address: 10.0.0.1, labels: { version: v1 } }
  - { address: 10.0.0.2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo, namespace: default }
spec:
  host: echo.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }
  - { port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }
  - { port: { number: 27017, name: mongo, protocol: MONGO }, hosts: ["*"] }
---
`;

async function table(vs: string, labels: Record<string, string> = { istio: "ingressgateway" }, random = () => 0) {
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": BASE + vs }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  return compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "gateway", namespace: "default", labels }, { random, version: 1 });
}

const FROM_LOOPBACK = { sourceIp: "127.0.0.1", destinationIp: "127.0.0.1" };

test("TCP and MONGO servers get TCP routes, not HTTP virtual hosts", async () => {
  const t = await table(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  tcp: [{ route: [{ destination: { host: echo.default.svc.cluster.local } }] }]
`);
  assert.equal([...t.gatewayTcp.keys()].sort(), [27017, 31400]);
  assert.equal([...t.gatewayPorts.keys()], [80]);
  assert.equal([...tcpGatewayPorts(t.config, { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } })].sort(), [27017, 31400]);
  const route = findTcpRoute(t.gatewayTcp.get(31400), FROM_LOOPBACK)!;
  assert.is(route.name, "default/echo#tcp0");
  assert.is(route.pick().name, "outbound|9000||echo.default.svc.cluster.local");
  assert.is(route.pick().hosts.length, 2);
  // its clusters are in the table, so their state (breaker, outlier detector) follows reloads
  assert.ok(t.clusters.has("outbound|9000||echo.default.svc.cluster.local"));
});

test("weights split exactly over an even sequence of random numbers (80/20)", async () => {
  let i = 0;
  const t = await table(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  tcp:
  - match: [{ port: 31400 }]
    route:
    - { destination: { host: echo.default.svc.cluster.local, subset: v1 }, weight: 80 }
    - { destination: { host: echo.default.svc.cluster.local, subset: v2 }, weight: 20 }
`, undefined, () => (i++ % 100) / 100);
  const route = findTcpRoute(t.gatewayTcp.get(31400), FROM_LOOPBACK)!;
  const counts: Record<string, number> = {};
  for (let n = 0; n < 100; n++) {
    const subset = route.pick().subset!;
    counts[subset] = (counts[subset] ?? 0) + 1;
  }
  assert.equal(counts, { v1: 80, v2: 20 });
  // the MONGO port is not matched by a route for port 31400
  assert.is(findTcpRoute(t.gatewayTcp.get(27017), FROM_LOOPBACK), undefined);
});

test("sourceSubnet and destinationSubnets match the connection's addresses; first match wins", async () => {
  const t = await table(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  tcp:
  - match: [{ sourceSubnet: 192.168.0.0/16 }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - match: [{ destinationSubnets: [10.1.0.0/16, 127.0.0.1] }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v1 } }]
`);
  const routes = t.gatewayTcp.get(31400);
  assert.is(findTcpRoute(routes, { sourceIp: "192.168.4.4", destinationIp: "127.0.0.1" })!.pick().subset, "v2");
  assert.is(findTcpRoute(routes, { sourceIp: "::ffff:192.168.4.4", destinationIp: "10.9.9.9" })!.pick().subset, "v2");
  assert.is(findTcpRoute(routes, { sourceIp: "127.0.0.1", destinationIp: "127.0.0.1" })!.pick().subset, "v1");
  assert.is(findTcpRoute(routes, { sourceIp: "127.0.0.1", destinationIp: "10.1.2.3" })!.pick().subset, "v1");
  assert.is(findTcpRoute(routes, { sourceIp: "127.0.0.1", destinationIp: "10.2.0.1" }), undefined);
});

test("config-time selectors: another gateway, sourceLabels and sourceNamespace drop a block", async () => {
  const vs = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: other, namespace: default }
spec:
  selector: { istio: other }
  servers: [{ port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge, other]
  tcp:
  - match: [{ gateways: [other] }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - match: [{ sourceLabels: { istio: ingressgateway, zone: a } }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - match: [{ sourceNamespace: elsewhere }]
    route: [{ destination: { host: echo.default.svc.cluster.local, subset: v2 } }]
  - route: [{ destination: { host: echo.default.svc.cluster.local, subset: v1 } }]
`;
  const edge = await table(vs);
  assert.equal(edge.gatewayTcp.get(31400)!.routes.map((r) => r.name), ["default/echo#tcp3"]);
  const zoneA = await table(vs, { istio: "ingressgateway", zone: "a" });
  assert.equal(zoneA.gatewayTcp.get(31400)!.routes.map((r) => r.name), ["default/echo#tcp1", "default/echo#tcp3"]);
  const other = await table(vs, { istio: "other" });
  assert.equal(other.gatewayTcp.get(31400)!.routes.map((r) => r.name), ["default/echo#tcp0", "default/echo#tcp3"]);
});

test.run();
