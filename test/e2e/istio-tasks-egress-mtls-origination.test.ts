// Istio's "Egress TLS Origination" task, its mutual TLS section at the sidecar, with the task's
// YAML (test/fixtures/istio-tasks/egress-tls-origination/mutual-origination.yaml; the ServiceEntry's
// targetPort is the local server's port): a ServiceEntry sends port 80 to the server's TLS port and
// a DestinationRule with `workloadSelector: {matchLabels: {app: sleep}}` originates mutual TLS there
// with `credentialName: client-credential` — the task's generic Secret (tls.key, tls.crt, ca.crt), a
// folder under the sleep sidecar's --credentials-dir. The server (nginx in the task) requires the
// client certificate. A sidecar the selector does not pick (app=other, no credential source) is not
// given the rule: it starts, and its call is not originated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { startNginxMutualTls } from "../support/nginx-mutual-tls.ts";
import { eventually, must, run, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

const HOST = "my-nginx.mesh-external.svc.cluster.local";
let work: string;
let config: string;
let dns: DnsServer;
let sleep: Sidecar;
let other: Sidecar;
let seen: { sni: string; client: string }[] = [];
const closers: (() => void)[] = [];

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-egress-mtls-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  const leaf = (name: string, cn: string, san: string) =>
    sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA example.com.crt -CAkey example.com.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /O=example-Inc./CN=example.com -keyout example.com.key -out example.com.crt 2>/dev/null");
  await leaf(HOST, HOST, `DNS:${HOST}`);
  await leaf("client.example.com", "client.example.com", "DNS:client.example.com");
  // kubectl create secret generic client-credential --from-file=tls.key=… --from-file=tls.crt=… --from-file=ca.crt=…
  await sh("mkdir -p creds/client-credential && cp client.example.com.key creds/client-credential/tls.key && cp client.example.com.crt creds/client-credential/tls.crt && cp example.com.crt creds/client-credential/ca.crt");

  // nginx with ssl_verify_client on: no certificate → 400, as nginx answers
  const nginx = await startNginxMutualTls({ key: await platform.readTextFile(`${work}/${HOST}.key`), cert: await platform.readTextFile(`${work}/${HOST}.crt`), ca: await platform.readTextFile(`${work}/example.com.crt`) });
  seen = nginx.seen;
  closers.push(() => nginx.close());
  dns = await startDnsServer();
  dns.set(HOST, { a: [{ address: "127.0.0.1", ttl: 30 }] });

  const fixture = await platform.readTextFile(new URL("../fixtures/istio-tasks/egress-tls-origination/mutual-origination.yaml", import.meta.url).pathname);
  config = await tempConfig({ "mutual-origination.yaml": fixture.replaceAll("NGINX_PORT", String(nginx.port)) });
  sleep = await startSidecar(config, ["--labels", "app=sleep", "--credentials-dir", `${work}/creds`, "--dns-server", dns.address, "--access-log", "text"]);
  other = await startSidecar(config, ["--labels", "app=other", "--dns-server", dns.address]);
});

test.after(async () => {
  stopAll();
  for (const close of closers) close();
  await dns.close();
  for (const dir of [work, config]) if (dir) await platform.remove(dir);
});

const call = async (sidecar: Sidecar) => (await run("curl", ["-sS", "--max-time", "10", "-x", `http://${sidecar.outbound}`, `http://${HOST}`])).out;

test("curl -sS http://my-nginx.mesh-external.svc.cluster.local from sleep: nginx's page, mutual TLS originated by its sidecar with client-credential", async () => {
  let out = "";
  await eventually(async () => /Welcome to nginx!/.test((out = await call(sleep))), 10_000, "nginx's page");
  assert.match(out, /Welcome to nginx!/);
  assert.equal(seen.at(-1), { sni: HOST, client: "client.example.com" }, "the server saw the SNI and the credential's client certificate");
  const [line] = await sleep.child.waitFor(/"GET \/ HTTP\/1\.1" 200 .*/);
  assert.match(line, new RegExp(`outbound\\|80\\|\\|${HOST.replaceAll(".", "\\.")}`));
});

test("a sidecar the workloadSelector does not pick started without a credential source and does not originate", async () => {
  const before = seen.length;
  const out = await call(other);
  assert.not.match(out, /Welcome to nginx!/);
  assert.ok(seen.every((s, i) => i < before || s.client !== "client.example.com"), "no request with the client certificate from this sidecar");
});

test.run();
