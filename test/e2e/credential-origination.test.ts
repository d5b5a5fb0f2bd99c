// End to end, DestinationRule tls.credentialName (issue 13 items 1 and 3): TLS origination whose CA
// and client pair come from a credential in --credentials-dir, laid out as Kubernetes mounts a
// Secret (NAME/tls.crt, tls.key, ca.crt; the CA alone in NAME-cacert/ca.crt). The backends are
// `openssl s_server`, which answers only TLS; one requires a client certificate. A replaced CA
// file is used by the next connection; a wrong SAN or a missing credential is 503 UF, never
// plaintext; an egress gateway originates with the credential as a sidecar does; and a proxy with
// no credential source refuses such a rule (and a gateway such an HTTPS server) at start and on
// reload, naming file, resource and field; a rejected reload leaves the last good config in service.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import type { Child } from "../../runtime/platform/process.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import { curl, must, run, serviceEntry, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";
import { opensslWww, tlsRule } from "../support/openssl-server.ts";

let work: string;
let config: string;
let sidecar: Sidecar;
let gateway: Gateway;
let mutualPort: number;
const servers: Child[] = [];

const rule = tlsRule;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-credential-origination-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  for (const ca of ["ca", "other-ca"]) await sh(`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=${ca} -keyout ${ca}.key -out ${ca}.crt 2>/dev/null`);
  for (const [name, san] of [["server", "DNS:api.example"], ["client", "URI:spiffe://cluster.local/ns/default/sa/app"]]) {
    await sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${name} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  }
  // SIMPLE: the CA alone, in Istio's NAME-cacert Secret; "rotating" starts with the wrong CA;
  // MUTUAL: the client pair and the CA in one Secret
  await sh("mkdir -p creds/api-cacert creds/rotating-cacert creds/client && cp ca.crt creds/api-cacert/ca.crt && cp other-ca.crt creds/rotating-cacert/ca.crt && cp client.crt creds/client/tls.crt && cp client.key creds/client/tls.key && cp ca.crt creds/client/ca.crt");
  const simple = await opensslWww(work, [], servers);
  const mutual = (mutualPort = await opensslWww(work, ["-Verify", "1", "-CAfile", `${work}/ca.crt`], servers));
  config = await tempConfig({
    "api.yaml": serviceEntry("api", "api.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("api", "api.example", "{ mode: SIMPLE, credentialName: api }"),
    "wrong-san.yaml": serviceEntry("wrong", "wrong.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("wrong", "wrong.example", "{ mode: SIMPLE, credentialName: api, sni: api.example, subjectAltNames: [billing.example] }"),
    "rotating.yaml": serviceEntry("rotating", "rotating.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("rotating", "rotating.example", "{ mode: SIMPLE, credentialName: rotating, sni: api.example }"),
    "mutual.yaml": serviceEntry("mtls", "mtls.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("mtls", "mtls.example", "{ mode: MUTUAL, credentialName: client, sni: api.example }"),
    "missing.yaml": serviceEntry("missing", "missing.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("missing", "missing.example", "{ mode: MUTUAL, credentialName: nobody, sni: api.example }"),
  });
  sidecar = await startSidecar(config, ["--credentials-dir", `${work}/creds`]);
  // an egress gateway: plain HTTP in on port 80, MUTUAL TLS out with the credential (Istio's egress pattern)
  const egress = await tempConfig({
    "mutual.yaml": serviceEntry("mtls", "mtls.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("mtls", "mtls.example", "{ mode: MUTUAL, credentialName: client, sni: api.example }"),
    "gateway.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: egress }
spec:
  selector: { istio: egressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [mtls.example]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: egress }
spec:
  hosts: [mtls.example]
  gateways: [egress]
  http:
  - route: [{ destination: { host: mtls.example, port: { number: 80 } } }]
`,
  });
  gateway = await startGateway(egress, ["--labels", "istio=egressgateway", "--credentials-dir", `${work}/creds`]);
});

test.after(async () => {
  stopAll();
  for (const s of servers) s.kill("SIGKILL");
  await platform.remove(work);
});

const call = (host: string) => curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/`]);

test("SIMPLE with credentialName: the server's certificate checked against the CA of NAME-cacert", async () => {
  const r = await call("api.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/, "the TLS-only server answered");
});

test("a certificate without the expected SAN is 503 UF", async () => {
  const r = await call("wrong.example");
  assert.is(r.status, 503, r.body);
  assert.match(r.headers[FLAGS_HEADER], /UF/);
});

test("a replaced CA file in the credential is used by the next connection", async () => {
  const before = await call("rotating.example");
  assert.is(before.status, 503, "the credential's CA did not sign the server's certificate");
  assert.match(before.headers[FLAGS_HEADER], /UF/);
  // as the kubelet updates a mounted Secret: a new file renamed over the old
  await platform.writeTextFile(`${work}/creds/rotating-cacert/ca.crt.new`, await platform.readTextFile(`${work}/ca.crt`));
  await must("mv", [`${work}/creds/rotating-cacert/ca.crt.new`, `${work}/creds/rotating-cacert/ca.crt`]);
  const after = await call("rotating.example");
  assert.is(after.status, 200, after.body);
});

test("MUTUAL with credentialName: the credential's client certificate is presented to a server that requires one", async () => {
  const r = await call("mtls.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/);
});

test("an egress gateway originates MUTUAL TLS with the credential too", async () => {
  const r = await curl(["-H", "Host: mtls.example", `http://${gateway.port80}/`]);
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/);
});

test("a credential that does not exist is 503 UF, not a connection without a client certificate", async () => {
  const r = await call("missing.example");
  assert.is(r.status, 503, r.body);
  assert.match(r.headers[FLAGS_HEADER], /UF/);
});

test("with no credential source, the sidecar refuses the rule at start, naming file, resource and field", async () => {
  const r = await run("dietmesh", ["sidecar", "--config", `${config}/mutual.yaml`, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /DestinationRule default\/mtls \(\S*mutual\.yaml, document 2\) spec\.trafficPolicy\.tls\.credentialName: credentialName needs a credential source/);
  assert.not.match(r.out, /ready on/);
});

const version = async (admin: string) => JSON.parse((await curl([`http://${admin}/config_dump`])).body).version as number;

test("with no credential source, a reload that adds such a rule is rejected: the last good config stays, the error names file, resource and field", async () => {
  const dir = await tempConfig({ "svc.yaml": serviceEntry("mtls", "mtls.example", [{ address: `127.0.0.1:${mutualPort}` }], 80) });
  const plain = await startSidecar(dir);
  const before = await version(plain.admin);
  await platform.writeTextFile(`${dir}/dr.yaml`, rule("mtls", "mtls.example", "{ mode: MUTUAL, credentialName: client, sni: api.example }"));
  const [, kept] = await plain.child.waitFor(/config change rejected, keeping version (\d+):/);
  assert.is(Number(kept), before);
  await plain.child.waitFor(/DestinationRule default\/mtls \(\S*dr\.yaml, document 1\) spec\.trafficPolicy\.tls\.credentialName: credentialName needs a credential source/);
  assert.is(await version(plain.admin), before, "the rejected change is not in service");
  // the watch goes on: the same rule without credentialName is accepted
  await platform.writeTextFile(`${dir}/dr.yaml`, rule("mtls", "mtls.example", "{ mode: DISABLE }"));
  await plain.child.waitFor(new RegExp(`config version ${before + 1} in service`));
});

const httpsGateway = (server: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [api.example]
${server}`;
const credentialServer = `  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [api.example]
    tls: { mode: SIMPLE, credentialName: api }
`;

test("with no credential source, a gateway refuses an HTTPS server's credentialName at start, naming file, resource and field", async () => {
  const dir = await tempConfig({ "gateway.yaml": httpsGateway(credentialServer) });
  const r = await run("dietmesh", ["gateway", "--config", dir, "--labels", "istio=ingressgateway", "--bind", "80=127.0.0.1:0", "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  assert.is(r.code, 1, r.out);
  assert.match(r.out, /Gateway default\/edge \(\S*gateway\.yaml, document 1\) spec\.servers\[1\]\.tls\.credentialName: credentialName needs a credential source/);
  assert.not.match(r.out, /ready on/);
});

test("with no credential source, a gateway reload that adds an HTTPS server with credentialName is rejected and the ports in service stay", async () => {
  const dir = await tempConfig({ "gateway.yaml": httpsGateway("") });
  const edge = await startGateway(dir, ["--labels", "istio=ingressgateway", "--bind", "443=127.0.0.1:0"]);
  const before = await version(edge.admin);
  await platform.writeTextFile(`${dir}/gateway.yaml`, httpsGateway(credentialServer));
  await edge.child.waitFor(/config change rejected, keeping version \d+:/);
  await edge.child.waitFor(/Gateway default\/edge \(\S*gateway\.yaml, document 1\) spec\.servers\[1\]\.tls\.credentialName: credentialName needs a credential source/);
  assert.is(await version(edge.admin), before);
  assert.not.ok(edge.child.lines.some((l) => /gateway port 443/.test(l)), "no listener for the rejected server");
  // port 80 still serves the version in service (no route for the host: Envoy's 404)
  const r = await curl(["-H", "Host: api.example", `http://${edge.port80}/`]);
  assert.is(r.status, 404, r.body);
});

test.run();
