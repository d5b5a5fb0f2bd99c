// mTLS end to end: two sidecars with identities from one CA directory talk mTLS automatically; a
// sidecar's inbound port is probed with real peers (curl --cert, openssl s_client) holding
// CA-issued, self-signed and foreign-CA certificates, and in plaintext, under STRICT and PERMISSIVE.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { curl, eventually, metricValue, must, run, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const app = startEcho("b-app");
let work = "";
let a: Sidecar; // client side: no app, calls b through its outbound listener
let b: Sidecar; // PERMISSIVE (no policy)
let strict: Sidecar; // a STRICT PeerAuthentication selects it
let impostor: Sidecar; // its certificate comes from another CA (same trust domain)

const service = (name: string, address: string, serviceAccount: string) => serviceEntry(name, `${name}.default.svc.cluster.local`, [{ address, serviceAccount }]);

const strictPolicy = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict-only, namespace: default }
spec:
  selector: { matchLabels: { app: strict } }
  mtls: { mode: STRICT }
`;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-mtls-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  await must("dietmesh", ["ca", "init", "--dir", `${work}/other-ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "curl", "--out", `${work}/curl`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/other-ca`, "--namespace", "default", "--service-account", "curl", "--out", `${work}/foreign`]);
  // self-signed, with the identity the real one would have
  await must("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/", "-keyout", `${work}/self.key`, "-out", `${work}/self.pem`, "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/curl"]);

  const bConfig = await tempConfig({ "policy.yaml": strictPolicy });
  b = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b"]);
  strict = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "strict", "--labels", "app=strict"]);
  impostor = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/other-ca`, "--service-account", "impostor"]);
  const aConfig = await tempConfig({ "impostor.yaml": service("impostor", impostor.inbound!, "impostor"), "b.yaml": service("b", b.inbound!, "b"), "strict.yaml": service("strict", strict.inbound!, "strict"), "wrong.yaml": service("wrong", b.inbound!, "not-b") });
  a = await startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a"]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await platform.remove(work);
});

const clientCert = () => ["--cert", `${work}/curl/cert-chain.pem`, "--key", `${work}/curl/key.pem`];

test("sidecar to sidecar is mTLS: the app sees the caller's SPIFFE ID in XFCC, and a forged XFCC is dropped", async () => {
  for (const name of ["b", "strict"]) {
    const r = await curl(["-H", `Host: ${name}:8080`, "-H", "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/kube-system/sa/admin", `http://${a.outbound}/who`]);
    assert.is(r.status, 200, r.body);
    const xfcc: string = JSON.parse(r.body).headers["x-forwarded-client-cert"];
    assert.match(xfcc, new RegExp(`^By=spiffe://cluster.local/ns/default/sa/${name};Hash=[0-9a-f]{64};Subject="";URI=spiffe://cluster.local/ns/default/sa/a$`));
  }
  const metrics = await (await curl([`http://${b.admin}/stats/prometheus`])).body;
  assert.match(metrics, /istio_requests_total\{[^}]*reporter="destination"[^}]*connection_security_policy="mutual_tls"/);
  const expiry = /dietmesh_certificate_expiry_timestamp_seconds\{name="workload"\} (\d+)/.exec(metrics);
  assert.ok(expiry && Number(expiry[1]) * 1000 > Date.now() + 23 * 3_600_000, "the workload certificate's expiry (24 h) is exported");
  // the mesh's root as "root": its notAfter as openssl reads the CA's root-cert.pem
  const end = await must("openssl", ["x509", "-noout", "-enddate", "-in", `${work}/ca/root-cert.pem`]);
  assert.is(await metricValue(b.admin, "dietmesh_certificate_expiry_timestamp_seconds", { name: "root" }), Date.parse(/notAfter=(.+)/.exec(end)![1].trim()) / 1000);
});

test("the client checks the server's identity: another service account's certificate, or one from another CA, fails (503 UF)", async () => {
  const impostorReply = await curl(["-H", "Host: impostor:8080", `http://${a.outbound}/`]);
  assert.is(impostorReply.status, 503, impostorReply.body);
  const r = await curl(["-H", "Host: wrong:8080", `http://${a.outbound}/`]);
  assert.is(r.status, 503);
  assert.match(r.headers["x-dietmesh-response-flags"], /(^|,)UF$/); // URX,UF: Istio's default policy retried the connect failure
});

test("curl --cert with a CA-issued certificate is accepted on STRICT and PERMISSIVE ports", async () => {
  for (const port of [b.inbound!, strict.inbound!]) {
    // -k: an SVID names a SPIFFE ID, not a host name; openssl below checks the server's chain
    const r = await curl(["-k", ...clientCert(), `https://${port}/tls`]);
    assert.is(r.status, 200);
    assert.match(JSON.parse(r.body).headers["x-forwarded-client-cert"], /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/curl$/);
  }
});

test("PERMISSIVE takes plaintext too (no XFCC, a forged one dropped); STRICT refuses it", async () => {
  const plain = await curl(["-H", "x-forwarded-client-cert: URI=spiffe://evil", `http://${b.inbound}/plain`]);
  assert.is(plain.status, 200);
  assert.is(JSON.parse(plain.body).headers["x-forwarded-client-cert"], undefined);
  const refused = await run("curl", ["-s", "--max-time", "5", `http://${strict.inbound}/plain`]);
  assert.is.not(refused.code, 0, "plaintext to a STRICT port got an answer");
});

for (const [what, args] of [
  ["no certificate", () => []],
  ["a self-signed certificate", () => ["--cert", `${work}/self.pem`, "--key", `${work}/self.key`]],
  ["a certificate from another CA", () => ["--cert", `${work}/foreign/cert-chain.pem`, "--key", `${work}/foreign/key.pem`]],
] as [string, () => string[]][]) {
  test(`curl with ${what} is refused on both ports`, async () => {
    for (const port of [b.inbound!, strict.inbound!]) {
      const r = await run("curl", ["-s", "-k", "--max-time", "5", ...args(), `https://${port}/`]);
      assert.is.not(r.code, 0, `${port} answered: ${r.out}`);
    }
  });
}

async function sClient(port: string, extra: string[]): Promise<string> {
  const child = runCommand("sh", ["-c", `printf 'GET /s HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | openssl s_client -connect ${port} -CAfile ${work}/ca/root-cert.pem -verify_return_error -quiet ${extra.join(" ")} 2>&1`]);
  await child.exited;
  return child.lines.join("\n");
}

test("openssl s_client: with a CA-issued certificate the STRICT port verifies (chain to our root) and answers; without one it refuses", async () => {
  const ok = await sClient(strict.inbound!, ["-cert", `${work}/curl/cert-chain.pem`, "-key", `${work}/curl/key.pem`]);
  assert.match(ok, /HTTP\/1\.1 200/);
  assert.match(ok, /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/curl/);
  const none = await sClient(strict.inbound!, []);
  assert.not.match(none, /HTTP\/1\.1 200/);
  const foreign = await sClient(strict.inbound!, ["-cert", `${work}/foreign/cert-chain.pem`, "-key", `${work}/foreign/key.pem`]);
  assert.not.match(foreign, /HTTP\/1\.1 200/);
});

test("/config_dump shows the workload certificate and its expiry", async () => {
  const dump = JSON.parse((await curl([`http://${b.admin}/config_dump`])).body);
  const text = JSON.stringify(dump);
  assert.match(text, /spiffe:\/\/cluster\.local\/ns\/default\/sa\/b/);
  await eventually(async () => /notAfter/.test(text), 100, "notAfter in config_dump");
});

test.run();
