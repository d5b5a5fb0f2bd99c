// Istio's "Egress Gateways with TLS Origination" task, second half (mutual TLS origination), with
// the task's YAML (test/fixtures/istio-tasks/egress-gateway-tls-origination/mtls-*.yaml):
//   1. the app reaches the mutual-TLS server (nginx in the task; here a local server that answers
//      as nginx does, 400 "No required SSL certificate was sent" without a client certificate)
//      through its sidecar with its own client certificate, and without one gets that 400;
//   2. with the egress gateway config: http://nginx.example.com goes sidecar → (ISTIO_MUTUAL, SNI
//      nginx.example.com) → egress gateway (MUTUAL, its SPIFFE certificate from `dietmesh ca issue`
//      in the files Istio's /etc/certs held) → mutual TLS the gateway originates with the client
//      certificate files → the server, which saw the client's certificate.
// my-nginx.mesh-external.svc.cluster.local (the ServiceEntry's endpoint, a name) resolves through the
// test DNS server. The task's certificates come from nicholasjackson/mtls-go-example; here openssl
// makes the same roles (a CA, nginx.example.com's server certificate, a client certificate).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { startNginxMutualTls } from "../support/nginx-mutual-tls.ts";
import type { Child } from "../../runtime/platform/process.ts";
import { dietmesh, eventually, must, run, serviceEntry, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

const fixtures = new URL("../fixtures/istio-tasks/egress-gateway-tls-origination/", import.meta.url).pathname;
let work: string;
let sidecarConfig: string;
let gatewayConfig: string;
let dns: DnsServer;
let sidecar: Sidecar;
let gateway: Child;
let nginxPort: number;
let seen: { sni: string; client: string }[] = [];
const closers: (() => void)[] = [];

async function fixture(name: string): Promise<string> {
  const text = await platform.readTextFile(`${fixtures}${name}`);
  return text
    .replaceAll("NGINX_PORT", String(nginxPort))
    .replaceAll("CLIENT_CERTS_DIR", `${work}/nginx-client-certs`)
    .replaceAll("CA_CERTS_DIR", `${work}/nginx-ca-certs`)
    .replaceAll("CERTS_DIR", `${work}/gateway-certs`);
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-egress-mtls-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  const leaf = (name: string, cn: string, san: string) =>
    sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=nginx-example-ca -keyout ca.key -out ca.crt 2>/dev/null");
  await leaf("server", "nginx.example.com", "DNS:nginx.example.com");
  await leaf("client", "nginx.example.com-client", "DNS:client.example.com");
  // the Secrets the task mounts into the egress gateway
  await sh("mkdir nginx-client-certs nginx-ca-certs && cp client.crt nginx-client-certs/tls.crt && cp client.key nginx-client-certs/tls.key && cp ca.crt nginx-ca-certs/ca-chain.cert.pem");
  // the mesh CA: the sleep pod's identity, and the egress gateway's certificate in Istio's /etc/certs file names
  await must("dietmesh", ["ca", "init", "--dir", `${work}/mesh-ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/mesh-ca`, "--namespace", "istio-system", "--service-account", "istio-egressgateway-service-account", "--out", `${work}/gateway-certs`]);

  // nginx with ssl_verify_client on: no certificate → 400, as nginx answers
  const nginx = await startNginxMutualTls({ key: await platform.readTextFile(`${work}/server.key`), cert: await platform.readTextFile(`${work}/server.crt`), ca: await platform.readTextFile(`${work}/ca.crt`) });
  seen = nginx.seen;
  nginxPort = nginx.port;
  closers.push(() => nginx.close());
  dns = await startDnsServer();
  dns.set("my-nginx.mesh-external.svc.cluster.local", { a: [{ address: "127.0.0.1", ttl: 30 }] });

  gatewayConfig = await tempConfig({ "nginx.yaml": await fixture("mtls-nginx.yaml"), "gateway.yaml": await fixture("mtls-gateway.yaml"), "routes.yaml": await fixture("mtls-routes.yaml") });
  gateway = dietmesh(["gateway", "--config", gatewayConfig, "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0", "--labels", "app=istio-egressgateway,istio=egressgateway", "--access-log", "text", "--dns-server", dns.address]);
  const [, gatewayAddress] = await gateway.waitFor(/gateway port 443 listening on (\S+)/);
  await gateway.waitFor(/ready on /);
  // what Kubernetes would make: the egress gateway's Service
  const egressService = serviceEntry("istio-egressgateway", "istio-egressgateway.istio-system.svc.cluster.local", [{ address: gatewayAddress }], 443);
  sidecarConfig = await tempConfig({ "nginx.yaml": await fixture("mtls-nginx.yaml"), "egress-gateway-service.yaml": egressService });
  sidecar = await startSidecar(sidecarConfig, ["--dns-server", dns.address, "--ca-dir", `${work}/mesh-ca`, "--service-account", "sleep", "--labels", "app=sleep"]);
});

test.after(async () => {
  stopAll();
  gateway?.kill("SIGKILL");
  for (const close of closers) close();
  await dns.close();
  for (const dir of [work, sidecarConfig, gatewayConfig]) if (dir) await platform.remove(dir);
});

async function curl(args: string[]): Promise<{ code: number; out: string }> {
  return await run("curl", ["-sS", "--max-time", "10", "-x", `http://${sidecar.outbound}`, ...args]);
}

test("the app's own mutual TLS through its sidecar: with its client certificate, nginx's page; without, 400", async () => {
  const mine = await curl(["--cacert", `${work}/ca.crt`, "--cert", `${work}/client.crt`, "--key", `${work}/client.key`, "https://nginx.example.com"]);
  assert.is(mine.code, 0, mine.out);
  assert.match(mine.out, /Welcome to nginx!/);
  const none = await curl(["-k", "https://nginx.example.com"]);
  assert.match(none.out, /No required SSL certificate was sent/);
});

// The DestinationRule's `sni` (egressgateway-for-nginx, ISTIO_MUTUAL) is what lets the egress
// gateway choose its server: mesh mTLS to an IP endpoint sends no SNI of its own.
test("through the egress gateway: http://nginx.example.com gets nginx's page, mutual TLS originated by the gateway", async () => {
  await platform.writeTextFile(`${sidecarConfig}/gateway.yaml`, await fixture("mtls-gateway.yaml"));
  await platform.writeTextFile(`${sidecarConfig}/routes.yaml`, await fixture("mtls-routes.yaml"));
  await eventually(async () => /Welcome to nginx!/.test((await curl(["http://nginx.example.com"])).out), 10_000, "routes through the egress gateway in service");
  const before = seen.length;
  const r = await curl(["http://nginx.example.com"]);
  assert.match(r.out, /Welcome to nginx!/);
  assert.is(seen.length, before + 1);
  assert.equal(seen.at(-1), { sni: "nginx.example.com", client: "nginx.example.com-client" });
  const [line] = await gateway.waitFor(/"GET \/ HTTP\/1\.1" 200 .*/);
  assert.match(line, /outbound\|443\|\|nginx\.example\.com/);
});

test.run();
