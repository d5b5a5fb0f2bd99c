// End to end, client certificates at the gateway (issue 13): HTTPS servers with tls.mode MUTUAL,
// OPTIONAL_MUTUAL and ISTIO_MUTUAL on one port, told apart by SNI, checked with curl against CAs
// made here with openssl: no certificate and one from another CA are refused, one from
// caCertificates is accepted; subjectAltNames, verifyCertificateHash and verifyCertificateSpki;
// X-Forwarded-Client-Cert to the upstream as an Istio gateway sets it (a client's own header
// dropped, also on plain HTTP); credentialName from --credentials-dir with the CA in
// <name>-cacert, whose replaced CA file applies to new connections without a restart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { curl, eventually, must, run, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const app = startEcho("mtls-edge");
let work: string;
let gateway: Gateway;
let https: string;
let goodHash: string;
let otherHash: string;
let goodSpki: string;

const sh = (script: string) => must("sh", ["-c", script]);

/** a CA key and self-signed certificate in dir/name.{key,crt} */
const makeCa = (name: string, cn: string) => sh(`cd ${work} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=${cn} -keyout ${name}.key -out ${name}.crt 2>/dev/null`);

/** a leaf signed by ca, with SANs and an EKU, in dir/name.{key,crt} */
const makeLeaf = (name: string, ca: string, subject: string, sans: string, eku: string) =>
  sh(`cd ${work} && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '${subject}' -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${sans}\\nextendedKeyUsage=${eku}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);

const gatewayYaml = (dir: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [plain.example]
  - port: { number: 443, name: https-m, protocol: HTTPS }
    hosts: [m.example]
    tls: { mode: MUTUAL, serverCertificate: ${dir}/server.crt, privateKey: ${dir}/server.key, caCertificates: ${dir}/client-ca.crt }
  - port: { number: 443, name: https-s, protocol: HTTPS }
    hosts: [s.example]
    tls: { mode: MUTUAL, serverCertificate: ${dir}/server.crt, privateKey: ${dir}/server.key, caCertificates: ${dir}/client-ca.crt, subjectAltNames: [client.example] }
  - port: { number: 443, name: https-h, protocol: HTTPS }
    hosts: [h.example]
    tls: { mode: MUTUAL, serverCertificate: ${dir}/server.crt, privateKey: ${dir}/server.key, caCertificates: ${dir}/client-ca.crt, verifyCertificateHash: ["${otherHash}"] }
  - port: { number: 443, name: https-p, protocol: HTTPS }
    hosts: [p.example]
    tls: { mode: MUTUAL, serverCertificate: ${dir}/server.crt, privateKey: ${dir}/server.key, caCertificates: ${dir}/client-ca.crt, verifyCertificateSpki: ["${goodSpki}"] }
  - port: { number: 443, name: https-o, protocol: HTTPS }
    hosts: [o.example]
    tls: { mode: OPTIONAL_MUTUAL, serverCertificate: ${dir}/server.crt, privateKey: ${dir}/server.key, caCertificates: ${dir}/client-ca.crt }
  - port: { number: 443, name: https-c, protocol: HTTPS }
    hosts: [c.example]
    tls: { mode: MUTUAL, credentialName: edge-cred }
  - port: { number: 443, name: https-i, protocol: HTTPS }
    hosts: [i.example]
    tls: { mode: ISTIO_MUTUAL }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge }
spec:
  hosts: ["*.example"]
  gateways: [edge]
  http:
  - route: [{ destination: { host: app.default.svc.cluster.local } }]
`;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-gw-mtls-");
  await Promise.all([makeCa("server-ca", "server-ca"), makeCa("client-ca", "client-ca"), makeCa("foreign-ca", "client-ca")]);
  await makeLeaf("server", "server-ca", "/CN=edge", "DNS:m.example,DNS:s.example,DNS:h.example,DNS:p.example,DNS:o.example,DNS:c.example", "serverAuth");
  await makeLeaf("good", "client-ca", "/O=Acme/CN=good-client", "DNS:client.example,URI:spiffe://example.org/client", "clientAuth");
  await makeLeaf("other", "client-ca", "/CN=other-client", "DNS:other.example", "clientAuth");
  await makeLeaf("foreign", "foreign-ca", "/CN=good-client", "DNS:client.example", "clientAuth");
  goodHash = (await sh(`openssl x509 -in ${work}/good.crt -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //'`)).trim();
  otherHash = (await sh(`openssl x509 -in ${work}/other.crt -noout -fingerprint -sha256 | sed 's/.*=//'`)).trim(); // colon form
  goodSpki = (await sh(`openssl x509 -in ${work}/good.crt -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64`)).trim();
  // credentialName edge-cred: the certificate in its own folder, the client CA in edge-cred-cacert
  await sh(`mkdir -p ${work}/creds/edge-cred ${work}/creds/edge-cred-cacert && cp ${work}/server.crt ${work}/creds/edge-cred/tls.crt && cp ${work}/server.key ${work}/creds/edge-cred/tls.key && cp ${work}/client-ca.crt ${work}/creds/edge-cred-cacert/ca.crt`);
  await must("dietmesh", ["ca", "init", "--dir", `${work}/mesh-ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/mesh-ca`, "--namespace", "default", "--service-account", "sleep", "--out", `${work}/sleep`]);
  const config = await tempConfig({ "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]), "gateway.yaml": gatewayYaml(work) });
  gateway = await startGateway(config, ["--bind", "443=127.0.0.1:0", "--credentials-dir", `${work}/creds`, "--ca-dir", `${work}/mesh-ca`]);
  [, https] = await gateway.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await platform.remove(work);
});

const port = () => https.split(":")[1];

interface Outcome {
  /** curl's exit code: 0 when a response came back */
  code: number;
  status: string;
  xfcc?: string;
}

/** curl to host over HTTPS with the client certificate `as` (none: no certificate) */
async function get(host: string, as?: string, extra: string[] = []): Promise<Outcome> {
  const client = as === "sleep" ? ["--cert", `${work}/sleep/cert-chain.pem`, "--key", `${work}/sleep/key.pem`] : as ? ["--cert", `${work}/${as}.crt`, "--key", `${work}/${as}.key`] : [];
  // ISTIO_MUTUAL serves the gateway's SVID, which names no host: its chain is checked, not its name
  const server = host === "i.example" ? ["--cacert", `${work}/mesh-ca/root-cert.pem`, "-k"] : ["--cacert", `${work}/server-ca.crt`];
  const child = runCommand("curl", ["-s", "--max-time", "10", ...server, ...client, ...extra, "--resolve", `${host}:${port()}:127.0.0.1`, "-w", "\n%{http_code}", `https://${host}:${port()}/who`]);
  const code = (await child.exited) ?? -1;
  const lines = child.lines;
  const status = lines[lines.length - 1] ?? "";
  let xfcc: string | undefined;
  if (status === "200") xfcc = JSON.parse(lines.slice(0, -1).join("\n")).headers["x-forwarded-client-cert"];
  return { code, status, xfcc };
}

const refused = (o: Outcome) => o.status !== "200" && o.code !== 0;

test("MUTUAL: no certificate and one from another CA are refused; one from caCertificates is accepted, with XFCC as Istio's gateway sets it", async () => {
  assert.ok(refused(await get("m.example")), "no client certificate");
  assert.ok(refused(await get("m.example", "foreign")), "a certificate from another CA");
  const ok = await get("m.example", "good", ["-H", "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/x/sa/admin"]);
  assert.is(ok.status, "200");
  const pem = encodeURIComponent((await platform.readTextFile(`${work}/good.crt`)).trim() + "\n");
  assert.is(ok.xfcc, `Hash=${goodHash};Cert="${pem}";Subject="CN=good-client,O=Acme";URI=spiffe://example.org/client;DNS=client.example`);
});

test("subjectAltNames: a certificate from the CA without a listed SAN is refused", async () => {
  assert.is((await get("s.example", "good")).status, "200");
  assert.ok(refused(await get("s.example", "other")), "SAN other.example is not listed");
});

test("verifyCertificateHash (colon form) and verifyCertificateSpki pin one certificate each", async () => {
  assert.is((await get("h.example", "other")).status, "200");
  assert.ok(refused(await get("h.example", "good")), "good's hash is not pinned");
  assert.is((await get("p.example", "good")).status, "200");
  assert.ok(refused(await get("p.example", "other")), "other's public key is not pinned");
});

test("OPTIONAL_MUTUAL: no certificate is served without XFCC, a good one with it, one from another CA is refused", async () => {
  const none = await get("o.example", undefined, ["-H", "x-forwarded-client-cert: Hash=forged"]);
  assert.is(none.status, "200");
  assert.is(none.xfcc, undefined, "a client's own XFCC is dropped");
  const good = await get("o.example", "good");
  assert.is(good.status, "200");
  assert.match(good.xfcc ?? "", /^Hash=[0-9a-f]{64};Cert="-----BEGIN%20CERTIFICATE-----%0A/);
  assert.ok(refused(await get("o.example", "foreign")), "a certificate that is given must verify");
});

test("ISTIO_MUTUAL: the gateway's SVID is served, a mesh client is accepted (XFCC By is the gateway's SPIFFE ID), others refused", async () => {
  const mesh = await get("i.example", "sleep");
  assert.is(mesh.status, "200");
  assert.match(mesh.xfcc ?? "", /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/istio-ingressgateway-service-account;Hash=[0-9a-f]{64};Cert="[^"]+";Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep$/);
  assert.ok(refused(await get("i.example", "good")), "a certificate from outside the mesh");
  assert.ok(refused(await get("i.example")), "no certificate");
});

test("plain HTTP: a client's own XFCC never reaches the upstream", async () => {
  const r = await curl(["-H", "Host: plain.example", "-H", "x-forwarded-client-cert: By=spiffe://forged", `http://${gateway.port80}/p`]);
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).headers["x-forwarded-client-cert"], undefined);
});

test("credentialName from --credentials-dir (CA in <name>-cacert); a replaced CA file applies to new connections", async () => {
  assert.is((await get("c.example", "good")).status, "200");
  assert.ok(refused(await get("c.example")), "no client certificate");
  assert.ok(refused(await get("c.example", "foreign")), "another CA");
  await sh(`cp ${work}/foreign-ca.crt ${work}/creds/edge-cred-cacert/ca.crt.tmp && mv ${work}/creds/edge-cred-cacert/ca.crt.tmp ${work}/creds/edge-cred-cacert/ca.crt`);
  await eventually(async () => (await get("c.example", "foreign")).status === "200", 10_000, "the new CA to be used");
  assert.ok(refused(await get("c.example", "good")), "the old CA no longer trusted");
});

test("TLS settings that cannot be honoured are refused at load with the field named", async () => {
  const config = await tempConfig({
    "gw.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bad }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https-a, protocol: HTTPS }
    hosts: [a.example]
    tls: { mode: ISTIO_MUTUAL, serverCertificate: /x.crt }
  - port: { number: 443, name: https-b, protocol: HTTPS }
    hosts: [b.example]
    tls: { mode: SIMPLE, serverCertificate: /x.crt, privateKey: /x.key, caCertificates: /ca.crt }
  - port: { number: 443, name: https-c, protocol: HTTPS }
    hosts: [c.example]
    tls: { mode: MUTUAL, serverCertificate: /x.crt, privateKey: /x.key, caCertificates: /ca.crt, verifyCertificateHash: [nothex], caCrl: /crl.pem }
  - port: { number: 443, name: https-d, protocol: HTTPS }
    hosts: [d.example]
    tls: { mode: MUTUAL, serverCertificate: /x.crt, privateKey: /x.key }
  - port: { number: 443, name: https-e, protocol: HTTPS }
    hosts: [e.example]
    tls: { mode: PASSTHROUGH }
`,
  });
  const { code, out } = await run("dietmesh", ["check", config]);
  assert.is.not(code, 0);
  assert.match(out, /spec\.servers\[0\]\.tls\.serverCertificate: tls\.mode ISTIO_MUTUAL uses the gateway's mesh certificate/);
  assert.match(out, /spec\.servers\[1\]\.tls\.caCertificates: .*SIMPLE does not ask for/);
  assert.match(out, /spec\.servers\[2\]\.tls\.verifyCertificateHash\[0\]: expected a hex SHA-256/);
  assert.match(out, /spec\.servers\[2\]\.tls\.caCrl: tls\.caCrl is not supported/);
  assert.match(out, /spec\.servers\[3\]\.tls\.caCertificates: tls\.mode MUTUAL needs caCertificates/);
  // PASSTHROUGH is built now (tls-passthrough.test.ts); mixed with terminated servers on one port it
  // is refused by the L4 pass, which runs once the schema errors above are fixed (l4-honesty.test.ts)
  assert.not.match(out, /PASSTHROUGH is not supported/);
});

test.run();
