// End to end, TLS origination (issue 13 item 3): the app calls http://api.example through its
// sidecar, and a DestinationRule with tls.mode SIMPLE makes the sidecar speak TLS to the real
// server — `openssl s_server`, which answers only TLS — verifying its certificate against
// caCertificates and its name against the SNI (or subjectAltNames); MUTUAL presents the configured
// client certificate to a server that requires one. A certificate that does not match is a connect
// failure (503, UF), never a plaintext fallback, with the reason in the access log and /clusters.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import type { Child } from "../../runtime/platform/process.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import { curl, must, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { opensslWww, tlsRule } from "../support/openssl-server.ts";

const plainApp = startEcho("plain");

let work: string;
let sidecar: Sidecar;
const servers: Child[] = [];

const rule = tlsRule;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-origination-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null");
  for (const [name, san] of [["server", "DNS:api.example"], ["client", "URI:spiffe://cluster.local/ns/default/sa/app"]]) {
    await sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${name} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  }
  const simple = await opensslWww(work, [], servers);
  const mutual = await opensslWww(work, ["-Verify", "1", "-CAfile", `${work}/ca.crt`], servers);
  const config = await tempConfig({
    "api.yaml": serviceEntry("api", "api.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("api", "api.example", `{ mode: SIMPLE, caCertificates: ${work}/ca.crt }`),
    "wrong-name.yaml": serviceEntry("wrong", "wrong.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("wrong", "wrong.example", `{ mode: SIMPLE, caCertificates: ${work}/ca.crt, sni: api.example, subjectAltNames: [billing.example] }`),
    "no-name.yaml": serviceEntry("other", "other.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("other", "other.example", `{ mode: SIMPLE, caCertificates: ${work}/ca.crt }`),
    "mutual.yaml": serviceEntry("mtls", "mtls.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("mtls", "mtls.example", `{ mode: MUTUAL, sni: api.example, caCertificates: ${work}/ca.crt, clientCertificate: ${work}/client.crt, privateKey: ${work}/client.key }`),
    // insecureSkipVerify: no CA and a name the certificate does not carry, still TLS
    "skip.yaml": serviceEntry("skip", "skip.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("skip", "skip.example", "{ mode: SIMPLE, insecureSkipVerify: true }"),
    // no caCertificates: the runtime's roots, which do not hold the test CA
    "roots.yaml": serviceEntry("roots", "roots.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("roots", "roots.example", "{ mode: SIMPLE, sni: api.example }"),
    // per-port settings: port 80 originates TLS, port 81 of the same service stays plaintext
    "ports.yaml": `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ports }
spec:
  hosts: [ports.example]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http-tls, protocol: HTTP }, { number: 81, name: http-plain, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http-tls: ${simple}, http-plain: ${plainApp.address.split(":")[1]} } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ports }
spec:
  host: ports.example
  trafficPolicy:
    portLevelSettings:
    - port: { number: 80 }
      tls: { mode: SIMPLE, caCertificates: ${work}/ca.crt, sni: api.example }
    - port: { number: 81 }
      tls: { mode: DISABLE }
`,
    "mutual-without.yaml": serviceEntry("nocert", "nocert.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("nocert", "nocert.example", `{ mode: SIMPLE, sni: api.example, caCertificates: ${work}/ca.crt }`),
  });
  sidecar = await startSidecar(config, ["--access-log", "json"]);
});

test.after(async () => {
  stopAll();
  await plainApp.server.stop(true);
  for (const s of servers) s.kill("SIGKILL");
  await platform.remove(work);
});

const call = (host: string) => curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/`]);

test("SIMPLE: plain HTTP from the app leaves the sidecar as TLS, the server's certificate checked against caCertificates and the name", async () => {
  const r = await call("api.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/, "the TLS-only server answered");
});

test("a certificate that does not carry the expected name is a connect failure (503 UF), not plaintext", async () => {
  const bySan = await call("wrong.example");
  assert.is(bySan.status, 503, bySan.body);
  assert.match(bySan.headers[FLAGS_HEADER], /UF/);
  // the reason, as Envoy gives it: %UPSTREAM_TRANSPORT_FAILURE_REASON% in the access log, and /clusters
  const logged = /"upstream_cluster":"outbound\|80\|\|wrong\.example"/;
  await sidecar.child.waitFor(logged);
  const line = sidecar.child.lines.find((l) => logged.test(l))!;
  const entry = JSON.parse(line.slice(line.indexOf("{")));
  assert.match(entry.response_flags, /\bUF\b/);
  assert.match(String(entry.upstream_transport_failure_reason), /server certificate SANs api\.example include none of billing\.example/, line);
  const clusters = JSON.parse((await curl([`http://${sidecar.admin}/clusters`])).body) as { name: string; endpoints: { lastConnectFailure: string | null }[] }[];
  const wrong = clusters.find((c) => c.name === "outbound|80||wrong.example");
  assert.match(String(wrong?.endpoints[0].lastConnectFailure), /server certificate SANs api\.example include none of billing\.example/);
  assert.is(clusters.find((c) => c.name === "outbound|80||api.example")?.endpoints[0].lastConnectFailure, null, "a host that connected has none");
  const byHost = await call("other.example");
  assert.is(byHost.status, 503, "SNI other.example: the certificate names api.example only");
  assert.match(byHost.headers[FLAGS_HEADER], /UF/);
});

test("MUTUAL: the configured client certificate is presented to a server that requires one; SIMPLE to it fails", async () => {
  const r = await call("mtls.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/);
  const without = await call("nocert.example");
  assert.is(without.status, 503, without.body);
});

test("insecureSkipVerify: neither the chain nor the name is checked, and the call still goes over TLS", async () => {
  const r = await call("skip.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/, "the TLS-only server answered");
});

test("no caCertificates: the runtime's roots judge the server (a private CA is refused, 503 UF)", async () => {
  const r = await call("roots.example");
  assert.is(r.status, 503, r.body);
  assert.match(r.headers[FLAGS_HEADER], /UF/);
});

test("portLevelSettings: port 80 originates TLS, port 81 of the same service stays plaintext", async () => {
  const tls = await call("ports.example");
  assert.is(tls.status, 200, tls.body);
  assert.match(tls.body, /s_server/);
  const plain = await call("ports.example:81");
  assert.is(plain.status, 200, plain.body);
  assert.match(plain.body, /"url"/, "the plaintext echo answered");
});

test.run();
