// `dietmesh ca serve` end to end: real curl and openssl against its HTTPS API, bootstrap tokens and
// Kubernetes service-account tokens (verified through OIDC discovery of a test issuer), and a
// sidecar that gets its identity from it with --ca/--ca-root/--token.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { loadCaDir } from "../../runtime/security/ca-store.ts";
import { issueBootstrapToken } from "../../runtime/security/tokens.ts";
import { cli, curl, dietmesh, must, startProcess, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";

let work = "";
let caUrl = "";
let kubeIssuer = "";
const kubeKeys = await generateKeyPair("RS256");
const issuerServer = platform.serve({
  hostname: "127.0.0.1",
  port: 0,
  async handler(request) {
    const path = new URL(request.url).pathname;
    if (path === "/.well-known/openid-configuration") return Response.json({ issuer: kubeIssuer, jwks_uri: `${kubeIssuer}/openid/v1/jwks` });
    if (path === "/openid/v1/jwks") return Response.json({ keys: [{ ...(await exportJWK(kubeKeys.publicKey)), kid: "k8s-1", alg: "RS256", use: "sig" }] });
    return new Response("not found", { status: 404 });
  },
});
kubeIssuer = `http://127.0.0.1:${issuerServer.port}`;

function kubernetesToken(namespace: string, serviceAccount: string, audience = "istio-ca"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ "kubernetes.io": { namespace, serviceaccount: { name: serviceAccount } } })
    .setProtectedHeader({ alg: "RS256", kid: "k8s-1" })
    .setIssuer(kubeIssuer)
    .setSubject(`system:serviceaccount:${namespace}:${serviceAccount}`)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(kubeKeys.privateKey);
}

/** a CSR made by openssl whose SAN claims istiod's identity */
async function claimingCsr(): Promise<string> {
  await must("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/", "-keyout", `${work}/w.key`, "-out", `${work}/w.csr`, "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/istio-system/sa/istiod"]);
  return platform.readTextFile(`${work}/w.csr`);
}

async function sign(token: string | undefined, csr: string) {
  await platform.writeTextFile(`${work}/req.json`, JSON.stringify({ csr }));
  const auth = token ? ["-H", `authorization: Bearer ${token}`] : [];
  return curl(["--cacert", `${work}/ca/root-cert.pem`, ...auth, "-H", "content-type: application/json", "--data-binary", `@${work}/req.json`, `${caUrl}/v1/certificate`]);
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-ca-serve-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const ca = startProcess(cli, ["ca", "serve", "--dir", `${work}/ca`, "--listen", "127.0.0.1:0", "--kubernetes-issuer", kubeIssuer, "--server-name", "ca.dietmesh.test"]);
  const [, url] = await ca.waitFor(/ca serving \S+ on (https:\/\/\S+)/);
  caUrl = url.replace("127.0.0.1", "localhost");
});

test.after(async () => {
  stopAll();
  await issuerServer.stop(true);
  await platform.remove(work);
});

test("the trust bundle is served in the SPIFFE bundle format, over HTTPS that verifies against the root", async () => {
  const r = await curl(["--cacert", `${work}/ca/root-cert.pem`, `${caUrl}/v1/bundle`]);
  assert.is(r.status, 200);
  const bundle = JSON.parse(r.body);
  assert.is(bundle.keys.length, 1);
  assert.is(bundle.keys[0].use, "x509-svid");
  assert.is(bundle.keys[0].x5c.length, 1);
});

test("--server-name puts the name clients dial in the CA's certificate (curl verifies it by that name)", async () => {
  const port = caUrl.slice(caUrl.lastIndexOf(":") + 1);
  const r = await curl(["--resolve", `ca.dietmesh.test:${port}:127.0.0.1`, "--cacert", `${work}/ca/root-cert.pem`, `https://ca.dietmesh.test:${port}/v1/bundle`]);
  assert.is(r.status, 200);
  const other = await runCommand("curl", ["-s", "--resolve", `other.dietmesh.test:${port}:127.0.0.1`, "--cacert", `${work}/ca/root-cert.pem`, `https://other.dietmesh.test:${port}/v1/bundle`]).exited;
  assert.is(other, 60, "a name the certificate does not carry fails verification (curl exit 60)");
});

test("a bootstrap token's caller gets its own identity, whatever the CSR claims; openssl verify -x509_strict passes", async () => {
  const token = (await must("dietmesh", ["ca", "token", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "web"])).trim();
  const r = await sign(token, await claimingCsr());
  assert.is(r.status, 200, r.body);
  const body = JSON.parse(r.body);
  assert.is(body.spiffeId, "spiffe://cluster.local/ns/default/sa/web");
  await platform.writeTextFile(`${work}/leaf.pem`, body.certChain.join(""));
  assert.match(await must("openssl", ["verify", "-x509_strict", "-CAfile", `${work}/ca/root-cert.pem`, `${work}/leaf.pem`]), /leaf\.pem: OK/);
  const text = await must("openssl", ["x509", "-in", `${work}/leaf.pem`, "-noout", "-ext", "subjectAltName"]);
  assert.match(text, /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/web/);
  assert.not.match(text, /istiod/);
});

test("a Kubernetes service-account token (keys from the issuer's OIDC discovery) names the identity", async () => {
  const r = await sign(await kubernetesToken("payments", "ledger"), await claimingCsr());
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).spiffeId, "spiffe://cluster.local/ns/payments/sa/ledger");
  const wrongAudience = await sign(await kubernetesToken("payments", "ledger", "api"), await claimingCsr());
  assert.is(wrongAudience.status, 401);
});

test("no token, a garbage token, or an expired token: refused, no certificate", async () => {
  const csr = await claimingCsr();
  assert.is((await sign(undefined, csr)).status, 401);
  assert.is((await sign("not.a.jwt", csr)).status, 401);
  const { tokenKey } = await loadCaDir(`${work}/ca`);
  const twoHoursAgo = { now: () => Date.now() - 2 * 3_600_000 };
  const expired = await issueBootstrapToken(tokenKey, { namespace: "default", serviceAccount: "web", clock: twoHoursAgo, ttlMs: 3_600_000 });
  const r = await sign(expired, csr);
  assert.is(r.status, 401);
  assert.not.match(r.body, /BEGIN CERTIFICATE/);
});

test("a sidecar with --ca, --ca-root and --token gets its identity from the CA service", async () => {
  const token = await must("dietmesh", ["ca", "token", "--dir", `${work}/ca`, "--namespace", "shop", "--service-account", "cart"]);
  await platform.writeTextFile(`${work}/token`, token.trim());
  const config = await tempConfig({});
  const sidecar = await startSidecar(config, ["--ca", caUrl, "--ca-root", `${work}/ca/root-cert.pem`, "--token", `${work}/token`, "--namespace", "shop", "--service-account", "cart"]);
  const dump = JSON.parse((await curl([`http://${sidecar.admin}/config_dump`])).body);
  assert.match(JSON.stringify(dump), /"spiffeId":"spiffe:\/\/cluster\.local\/ns\/shop\/sa\/cart"/);
});

test("a token for another workload than --namespace/--service-account say: a one-line usage error (exit 2), never a proxy acting as one workload with another's certificate", async () => {
  const token = await must("dietmesh", ["ca", "token", "--dir", `${work}/ca`, "--namespace", "shop", "--service-account", "cart"]);
  await platform.writeTextFile(`${work}/token-cart`, token.trim());
  const config = await tempConfig({});
  const child = dietmesh(["sidecar", "--config", config, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--ca", caUrl, "--ca-root", `${work}/ca/root-cert.pem`, "--token", `${work}/token-cart`, "--namespace", "default", "--service-account", "reviews"]);
  assert.is(await child.exited, 2);
  const lines = child.lines.filter((l) => l.trim());
  assert.equal(lines, ["dietmesh sidecar: the CA issued spiffe://cluster.local/ns/shop/sa/cart for this token, but this proxy is --namespace default --service-account reviews: give the token's namespace and service account"]);
});

test.run();
