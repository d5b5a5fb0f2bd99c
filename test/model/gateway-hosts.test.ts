// A Gateway server's "ns/host": only VirtualServices in namespace ns bind to that host ("*" any
// namespace, "." the Gateway's own; no "ns/" is any), for HTTP virtual hosts and TCP routes alike.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { findTcpRoute } from "../../runtime/model/compile-tcp.ts";
import { memoryIO } from "../config/memory-io.ts";

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: istio-system }
spec:
  hosts: [echo.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [shop/a.example.com, ./b.example.com, "*/c.example.com", d.example.com]
  - port: { number: 31400, name: tcp, protocol: TCP }
    hosts: [shop/*]
`;

/** a VirtualService named after its namespace, for every host, bound to the gateway */
const vs = (namespace: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r, namespace: ${namespace} }
spec:
  hosts: [a.example.com, b.example.com, c.example.com, d.example.com]
  gateways: [istio-system/edge]
  http: [{ route: [{ destination: { host: echo.internal } }] }]
  tcp: [{ route: [{ destination: { host: echo.internal, port: { number: 9000 } } }] }]
`;

async function table(...namespaces: string[]) {
  const text = GATEWAY + namespaces.map(vs).join("");
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": text }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  return compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "gateway", namespace: "istio-system", labels: { istio: "ingressgateway" } }, { random: () => 0, version: 1 });
}

/** host → the namespaces of the VirtualServices whose routes serve it on port 80 */
async function binders(...namespaces: string[]): Promise<Record<string, string[]>> {
  const t = await table(...namespaces);
  const out: Record<string, string[]> = {};
  for (const [host, vhost] of t.gatewayPorts.get(80)!.exact) out[host] = vhost.routes.map((r) => r.name.split("/")[0]);
  return out;
}

test("shop/ binds only VirtualServices in shop; ./ only the Gateway's namespace; */ and no prefix any", async () => {
  assert.equal(await binders("shop"), { "a.example.com": ["shop"], "c.example.com": ["shop"], "d.example.com": ["shop"] });
  assert.equal(await binders("other"), { "c.example.com": ["other"], "d.example.com": ["other"] });
  assert.equal(await binders("istio-system"), { "b.example.com": ["istio-system"], "c.example.com": ["istio-system"], "d.example.com": ["istio-system"] });
});

test("a TCP server for shop/* takes the TCP routes of a VirtualService in shop, not in another namespace", async () => {
  const conn = { sourceIp: "127.0.0.1", destinationIp: "127.0.0.1" };
  assert.is(findTcpRoute((await table("shop")).gatewayTcp.get(31400), conn)?.name, "shop/r#tcp0");
  assert.is(findTcpRoute((await table("other")).gatewayTcp.get(31400), conn), undefined);
});

test.run();
