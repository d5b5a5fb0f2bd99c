// Config honesty for L4 (issue 12 item 5): what dietmesh cannot carry yet is refused at load with
// file, resource and field path — never accepted and served as HTTP. What works loads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

const GW = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }
  - { port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }
  - { port: { number: 6379, name: redis, protocol: REDIS }, hosts: ["*"] }
`;

async function errors(yaml: string): Promise<string[]> {
  const loaded = await loadConfig(["l4.yaml"], { defaultNamespace: "default", ...memoryIO({ "l4.yaml": yaml }) });
  return loaded.errors.map(formatConfigError);
}

const vs = (spec: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db, namespace: default }
spec:
${spec}`;

test("what works loads: TCP/REDIS servers, tcp routes bound to a gateway with subnets", async () => {
  assert.equal(await errors(`${GW}---
${vs(`  hosts: ["*"]
  gateways: [edge]
  tcp:
  - match: [{ port: 31400, sourceSubnet: 10.0.0.0/8, destinationSubnets: ["192.168.0.1", "fd00::/8"] }]
    route: [{ destination: { host: db.example } }]
`)}`), []);
});

test("tls routes load: sniHosts among the hosts (exact or under a wildcard), bound to a gateway or the mesh", async () => {
  assert.equal(await errors(vs(`  hosts: [db.example, "*.wild.example"]
  gateways: [edge, mesh]
  tls:
  - match: [{ sniHosts: [db.example, a.wild.example, "*.wild.example"], port: 443, destinationSubnets: [10.0.0.0/8] }]
    route: [{ destination: { host: db.example }, weight: 60 }, { destination: { host: db2.example }, weight: 40 }]
`)), []);
});

test("a tls route naming an SNI its VirtualService does not claim, without destinations, or with a bad subnet, is refused", async () => {
  assert.equal(await errors(vs(`  hosts: [db.example]
  gateways: [edge]
  tls:
  - match: [{ sniHosts: [db.example, other.example], destinationSubnets: [10.0.0.0/40] }]
`)), [
    "Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tls[0].route: a tls route needs route with at least one destination",
    'Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tls[0].match[0].sniHosts[1]: sniHost "other.example" is not one of the VirtualService\'s hosts (db.example)',
    'Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tls[0].match[0].destinationSubnets[0]: expected an IP address or CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got "10.0.0.0/40"',
  ]);
});

test("tcp routes for sidecars (mesh) load: gateways omitted, listing mesh, or a match naming mesh", async () => {
  for (const spec of [
    `  hosts: [db.example]\n  tcp:\n  - route: [{ destination: { host: db.example } }]\n`,
    `  hosts: [db.example]\n  gateways: [edge, mesh]\n  tcp:\n  - route: [{ destination: { host: db.example } }]\n`,
    `  hosts: [db.example]\n  gateways: [edge]\n  tcp:\n  - match: [{ port: 31400 }, { gateways: [mesh] }]\n    route: [{ destination: { host: db.example } }]\n`,
  ]) assert.equal(await errors(vs(spec)), [], spec);
});

test("a tcp route without destinations and a subnet that is not one are refused", async () => {
  const out = await errors(vs(`  hosts: [db.example]
  gateways: [edge]
  tcp:
  - match: [{ sourceSubnet: 10.0.0.0/33, destinationSubnets: [not-a-subnet] }]
`));
  assert.equal(out, [
    "Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tcp[0].route: a tcp route needs route with at least one destination",
    'Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tcp[0].match[0].destinationSubnets[0]: expected an IP address or CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got "not-a-subnet"',
    'Error [schema] VirtualService default/db (l4.yaml, document 1, line 8) spec.tcp[0].match[0].sourceSubnet: expected an IP address or CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got "10.0.0.0/33"',
  ]);
});

test("Gateway servers with protocol TLS but not passthrough, UDP, and a port both HTTP and TCP, are refused", async () => {
  const out = await errors(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  servers:
  - { port: { number: 443, name: tls, protocol: TLS }, hosts: ["*"], tls: { mode: SIMPLE, serverCertificate: /a.crt, privateKey: /a.key } }
  - { port: { number: 53, name: dns, protocol: UDP }, hosts: ["*"] }
  - { port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }
  - { port: { number: 8080, name: tcp, protocol: TCP }, hosts: ["*"] }
`);
  assert.equal(out, [
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 6) spec.servers[0].tls.mode: tls.mode SIMPLE on a TLS server (TLS terminated, then TCP) is not supported by dietmesh's gateway yet; PASSTHROUGH and AUTO_PASSTHROUGH are, and HTTPS servers terminate TLS for HTTP",
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 7) spec.servers[1].port.protocol: protocol UDP is not supported (Istio's gateways do not proxy UDP either)",
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 9) spec.servers[3].port.protocol: port 8080 is already served as HTTP by servers[2]; one port carries HTTP (and terminated HTTPS), TCP or TLS passthrough, not a mix",
  ]);
});

test("passthrough servers load (TLS and HTTPS, PASSTHROUGH and AUTO_PASSTHROUGH, several on one port)", async () => {
  assert.equal(await errors(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  servers:
  - { port: { number: 443, name: tls-a, protocol: TLS }, hosts: [a.example], tls: { mode: PASSTHROUGH } }
  - { port: { number: 443, name: https-b, protocol: HTTPS }, hosts: [b.example], tls: { mode: PASSTHROUGH } }
  - { port: { number: 15443, name: tls, protocol: TLS }, hosts: ["*.local"], tls: { mode: AUTO_PASSTHROUGH } }
`), []);
});

test("passthrough and terminated HTTPS on one port, a TLS server without a mode, certificates on a passthrough server: refused", async () => {
  const out = await errors(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  servers:
  - { port: { number: 443, name: https-a, protocol: HTTPS }, hosts: [a.example], tls: { mode: SIMPLE, serverCertificate: /a.crt, privateKey: /a.key } }
  - { port: { number: 443, name: tls-b, protocol: TLS }, hosts: [b.example], tls: { mode: PASSTHROUGH, serverCertificate: /b.crt } }
  - { port: { number: 9443, name: tls-c, protocol: TLS }, hosts: [c.example] }
`);
  assert.equal(out, [
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 7) spec.servers[1].tls.serverCertificate: tls.serverCertificate has no use with tls.mode PASSTHROUGH: the TLS is not terminated by the gateway",
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 7) spec.servers[1].port.protocol: port 443 is already served as HTTP by servers[0]; one port carries HTTP (and terminated HTTPS), TCP or TLS passthrough, not a mix",
    "Error [schema] Gateway default/edge (l4.yaml, document 1, line 8) spec.servers[2].tls: a TLS server needs tls.mode PASSTHROUGH or AUTO_PASSTHROUGH",
  ]);
});

test.run();
