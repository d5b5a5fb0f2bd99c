// DestinationRule tls.mode SIMPLE/MUTUAL for bytes the TCP proxy carries as they come (a port a
// ServiceEntry declares TCP, a tcp route's destination) is refused when the config is
// checked — as `dietmesh check` and every proxy's load do — naming file, resource and field; the
// same mode for HTTP on another port of the host, or overridden for the TCP port, loads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { analyzeConfig } from "../../runtime/config/analyze.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: default }
spec:
  hosts: [db.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - { number: 80, name: http, protocol: HTTP }
  - { number: 443, name: https, protocol: HTTPS }
  - { number: 5432, name: tcp-postgres }
---
`;

const dr = (spec: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db, namespace: default }
spec:
  host: db.example.com
${spec}`;

async function check(yaml: string): Promise<string[]> {
  const loaded = await loadConfig(["tls.yaml"], { defaultNamespace: "default", ...memoryIO({ "tls.yaml": yaml }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  return analyzeConfig(loaded.config!, { knownHosts: [] }).map(formatConfigError);
}

const BYTES = "dietmesh's TCP proxy does not originate TLS yet; send TLS from the app, or declare the port HTTP to originate TLS for HTTP";

test("SIMPLE or MUTUAL in force for a TCP port: refused on the field that sets it", async () => {
  assert.equal(await check(SE + dr(`  trafficPolicy: { tls: { mode: SIMPLE } }\n`)), [
    `Error [unsupported-field] DestinationRule default/db (tls.yaml, document 2) spec.trafficPolicy.tls.mode: tls.mode SIMPLE would originate TLS on port 5432 of db.example.com, declared TCP (a byte stream): ${BYTES}`,
  ]);
  const [portLevel] = await check(SE + dr(`  trafficPolicy: { portLevelSettings: [{ port: { number: 5432 }, tls: { mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem } }] }\n`));
  assert.match(portLevel, /spec\.trafficPolicy\.portLevelSettings\[0\]\.tls\.mode: tls\.mode MUTUAL would originate TLS on port 5432/);
  const [subset] = await check(SE + dr(`  subsets: [{ name: v1, labels: { v: "1" } }, { name: v2, labels: { v: "2" }, trafficPolicy: { tls: { mode: SIMPLE } } }]\n`));
  assert.match(subset, /spec\.subsets\[1\]\.trafficPolicy\.tls\.mode: tls\.mode SIMPLE would originate TLS on port 5432/);
});

test("several rules for the host: the error names the rule whose field is in force", async () => {
  const second = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db-2, namespace: default, creationTimestamp: "2026-01-02T00:00:00Z" }
spec:
  host: db.example.com
  trafficPolicy: { tls: { mode: SIMPLE } }
`;
  const first = dr(`  subsets: [{ name: v1 }]\n`).replace("namespace: default }", 'namespace: default, creationTimestamp: "2026-01-01T00:00:00Z" }');
  const [e, ...rest] = await check(SE + first + second);
  assert.equal(rest, []);
  assert.match(e, /^Error \[unsupported-field\] DestinationRule default\/db-2 \(tls\.yaml, document 3\) spec\.trafficPolicy\.tls\.mode: /);
});

test("origination for HTTP ports, or overridden for the TCP port, loads", async () => {
  assert.equal(await check(SE + dr(`  trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: SIMPLE } }, { port: { number: 443 }, tls: { mode: SIMPLE } }] }\n`)), []);
  assert.equal(await check(SE + dr(`  trafficPolicy:\n    tls: { mode: SIMPLE }\n    portLevelSettings: [{ port: { number: 5432 }, tls: { mode: DISABLE } }]\n`)), []);
  assert.equal(await check(SE + dr(`  trafficPolicy: { tls: { mode: ISTIO_MUTUAL } }\n`)), []);
});

const route = (block: string) => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db, namespace: default }
spec:
  hosts: [db.example.com]
  ${block}: [{ ${block === "tls" ? "match: [{ sniHosts: [db.example.com] }], " : ""}route: [{ destination: { host: db.example.com, port: { number: 443 } } }] }]
`;
const ON_443 = dr(`  trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: SIMPLE } }] }\n`);

test("a tcp route to a port whose rule originates TLS is refused on its destination", async () => {
  assert.equal(await check(SE + ON_443 + route("tcp")), [
    "Error [unsupported-field] VirtualService default/db (tls.yaml, document 3) spec.tcp[0].route[0].destination: DestinationRule default/db (spec.trafficPolicy.portLevelSettings[0].tls.mode: SIMPLE) originates TLS to port 443 of db.example.com, but a tcp route carries bytes as they come: dietmesh's TCP proxy does not originate TLS yet",
  ]);
});

test("http and tls routes to that port load: HTTP gets TLS originated, a tls route carries the client's own TLS", async () => {
  // Istio's egress-gateway mutual TLS origination task has both for nginx.example.com:443
  assert.equal(await check(SE + ON_443 + route("http")), []);
  assert.equal(await check(SE + ON_443 + route("tls")), []);
});

test.run();
