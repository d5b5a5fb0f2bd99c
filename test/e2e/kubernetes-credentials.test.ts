// End to end, credentialName from Kubernetes Secrets (issue 13 item 1, --registry kubernetes): the
// test API server, fed by the real kubectl (`create secret tls`, `create secret generic
// NAME-cacert --from-file=ca.crt`), and real proxies reading it. A gateway serves HTTPS with the
// Secret's certificate (SIMPLE) and checks clients against the CA of NAME-cacert (MUTUAL); the
// Secret replaced with kubectl is served to new connections. A sidecar originates TLS (SIMPLE and
// MUTUAL DestinationRules) with the Secrets' CA and client pair to `openssl s_server`. Neither
// proxy ever lists a namespace's Secrets: every Secret request carries fieldSelector metadata.name.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import { curl, dietmesh, eventually, must, serviceEntry, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { tlsRule } from "../support/openssl-server.ts";
import { startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { ensureKubectl, kubectlFor, type Kubectl } from "../support/kube-api-kubectl.ts";

let work: string;
let api: KubeApi;
let kubectl: Kubectl;
let gateway: Child;
let port: string;
let sidecar: Sidecar;
const children: Child[] = [];

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [simple.example]
    tls: { mode: SIMPLE, credentialName: simple-cred }
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [mutual.example]
    tls: { mode: MUTUAL, credentialName: mutual-cred }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: edge }
spec:
  hosts: [simple.example, mutual.example]
  gateways: [edge]
  http:
  - directResponse: { status: 200, body: { string: "hello from the edge" } }
`;

const rule = tlsRule;

async function https(host: string, extra: string[]): Promise<{ code: number; status: string; body: string }> {
  const child = runCommand("curl", ["-s", "--max-time", "10", "--resolve", `${host}:${port}:127.0.0.1`, ...extra, "-w", "\n%{http_code}", `https://${host}:${port}/`]);
  const code = (await child.exited) ?? -1;
  return { code, status: child.lines.at(-1) ?? "", body: child.lines.slice(0, -1).join("\n") };
}

/** kubectl create secret ... as YAML, for kubectl replace (the Secret updated in place) */
async function replaceSecret(...args: string[]): Promise<void> {
  const yaml = await kubectl.ok("create", "secret", ...args, "--dry-run=client", "-o", "yaml");
  await kubectl.ok("replace", "-f", await kubectl.file("secret.yaml", yaml));
}

// uvu reports a failed before hook without its error: print it
test.before(async () => {
  try {
    await before();
  } catch (error) {
    console.error(error);
    throw error;
  }
});
async function before(): Promise<void> {
  await ensureKubectl();
  work = await platform.makeTempDir("dietmesh-kube-credentials-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  for (const ca of ["ca1", "ca2"]) await sh(`openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=${ca} -keyout ${ca}.key -out ${ca}.crt 2>/dev/null`);
  const issue = (name: string, ca: string, san: string) =>
    sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${name} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  await issue("simple1", "ca1", "DNS:simple.example");
  await issue("simple2", "ca2", "DNS:simple.example");
  await issue("mutual", "ca1", "DNS:mutual.example");
  await issue("client", "ca1", "DNS:client.example");
  await issue("stranger", "ca2", "DNS:client.example");
  await issue("api", "ca1", "DNS:api.example");

  api = startKubeApi();
  kubectl = await kubectlFor(api);
  await kubectl.ok("create", "secret", "tls", "simple-cred", "--cert", `${work}/simple1.crt`, "--key", `${work}/simple1.key`);
  await kubectl.ok("create", "secret", "tls", "mutual-cred", "--cert", `${work}/mutual.crt`, "--key", `${work}/mutual.key`);
  await kubectl.ok("create", "secret", "generic", "mutual-cred-cacert", `--from-file=ca.crt=${work}/ca1.crt`);
  // for origination: the CA alone (SIMPLE), and a client pair with its CA in one Secret (MUTUAL)
  await kubectl.ok("create", "secret", "generic", "api-cacert", `--from-file=ca.crt=${work}/ca1.crt`);
  await kubectl.ok("create", "secret", "generic", "client-cred", `--from-file=tls.crt=${work}/client.crt`, `--from-file=tls.key=${work}/client.key`, `--from-file=ca.crt=${work}/ca1.crt`);
  await kubectl.ok("create", "secret", "generic", "unrelated", "--from-literal=password=hunter2");

  const gatewayConfig = await tempConfig({ "edge.yaml": GATEWAY });
  gateway = dietmesh(["gateway", "--config", gatewayConfig, "--registry", "kubernetes", "--kubeconfig", kubectl.kubeconfig, "--labels", "istio=ingressgateway", "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  children.push(gateway);
  [, port] = (await gateway.waitFor(/gateway port 443 listening on \S+:(\d+) \(HTTPS\)/)) as [string, string];

  const backend = async (extra: string[]) => {
    const p = await closedPort();
    const child = runCommand("openssl", ["s_server", "-accept", `127.0.0.1:${p}`, "-cert", `${work}/api.crt`, "-key", `${work}/api.key`, "-www", ...extra]);
    children.push(child);
    await child.waitFor(/^ACCEPT/);
    return p;
  };
  const simple = await backend([]);
  const mutual = await backend(["-Verify", "1", "-CAfile", `${work}/ca1.crt`]);
  const sidecarConfig = await tempConfig({
    "api.yaml": serviceEntry("api", "api.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("api", "api.example", "{ mode: SIMPLE, credentialName: api }"),
    "wrong.yaml": serviceEntry("wrong", "wrong.example", [{ address: `127.0.0.1:${simple}` }], 80) + "---\n" + rule("wrong", "wrong.example", "{ mode: SIMPLE, credentialName: api, sni: api.example, subjectAltNames: [billing.example] }"),
    "mtls.yaml": serviceEntry("mtls", "mtls.example", [{ address: `127.0.0.1:${mutual}` }], 80) + "---\n" + rule("mtls", "mtls.example", "{ mode: MUTUAL, credentialName: client-cred, sni: api.example }"),
  });
  sidecar = await startSidecar(sidecarConfig, ["--registry", "kubernetes", "--kubeconfig", kubectl.kubeconfig]);
  children.push(sidecar.child);
}

test.after(async () => {
  for (const c of children) c.kill("SIGKILL");
  stopAll();
  await api?.stop();
  if (kubectl) await platform.remove(kubectl.dir);
  if (work) await platform.remove(work);
});

test("gateway SIMPLE: the certificate of Secret simple-cred (kubectl create secret tls)", async () => {
  const r = await https("simple.example", ["--cacert", `${work}/ca1.crt`]);
  assert.is(r.code, 0, r.body);
  assert.is(r.status, "200");
  assert.is(r.body, "hello from the edge");
});

test("gateway MUTUAL: clients checked against the CA in Secret mutual-cred-cacert", async () => {
  const ok = await https("mutual.example", ["--cacert", `${work}/ca1.crt`, "--cert", `${work}/client.crt`, "--key", `${work}/client.key`]);
  assert.is(ok.status, "200", ok.body);
  const without = await https("mutual.example", ["--cacert", `${work}/ca1.crt`]);
  assert.is.not(without.status, "200", "a client without a certificate is refused");
  const stranger = await https("mutual.example", ["--cacert", `${work}/ca1.crt`, "--cert", `${work}/stranger.crt`, "--key", `${work}/stranger.key`]);
  assert.is.not(stranger.status, "200", "a client certificate from another CA is refused");
});

test("the Secret replaced with kubectl: new connections get the new certificate", async () => {
  await replaceSecret("tls", "simple-cred", "--cert", `${work}/simple2.crt`, "--key", `${work}/simple2.key`);
  await eventually(async () => (await https("simple.example", ["--cacert", `${work}/ca2.crt`])).status === "200", 10_000, "the new certificate served");
  const old = await https("simple.example", ["--cacert", `${work}/ca1.crt`]);
  assert.is.not(old.code, 0, "ca1 must not verify the replaced certificate");
});

const call = (host: string) => curl(["-H", `Host: ${host}`, `http://${sidecar.outbound}/`]);

test("sidecar SIMPLE origination with the CA of Secret api-cacert; a wrong SAN is 503 UF", async () => {
  const r = await call("api.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/, "the TLS-only server answered");
  const wrong = await call("wrong.example");
  assert.is(wrong.status, 503, wrong.body);
  assert.match(wrong.headers[FLAGS_HEADER], /UF/);
});

test("sidecar MUTUAL origination presents Secret client-cred's certificate to a server that requires one", async () => {
  const r = await call("mtls.example");
  assert.is(r.status, 200, r.body);
  assert.match(r.body, /s_server/);
});

test("no proxy lists Secrets: every Secret request names one by fieldSelector", async () => {
  const secretRequests = api.requests.filter((r) => /\/secrets(\/|$)/.test(r.path));
  assert.ok(secretRequests.length > 0, "the proxies read Secrets from the API");
  for (const r of secretRequests) {
    if (r.path.endsWith("/secrets") && r.method === "GET") assert.match(r.query.fieldSelector ?? "", /^metadata\.name=[a-z0-9.-]+$/, JSON.stringify(r));
  }
  const proxies = secretRequests.filter((r) => r.query.fieldSelector);
  assert.ok(!proxies.some((r) => r.query.fieldSelector.includes("unrelated")), "an unnamed Secret is never asked for");
});

test.run();
