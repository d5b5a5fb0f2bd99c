// Istio's "Egress Gateways with TLS Origination" task (its first half, TLS origination), driven
// with the task's own YAML (test/fixtures/istio-tasks/egress-gateway-tls-origination/) and curl:
// the app (curl through its sidecar, as HTTP_PROXY) calls http://edition.cnn.com/politics.
//   1. the ServiceEntry alone: 301 to https (the local "external" HTTP server's redirect);
//   2. Gateway + DestinationRules + VirtualService applied: 200 as the only response, the request
//      having gone sidecar → egress gateway (its access log shows it) → TLS the gateway originated
//      to the local HTTPS server (which saw SNI edition.cnn.com).
// edition.cnn.com resolves through the test DNS server in both proxies. One difference from a
// cluster: the egress gateway's own Service is a ServiceEntry the test writes (Kubernetes makes
// it there). Sidecar → gateway is plaintext, as in Istio with this YAML (a plain HTTP Gateway
// server; istio/istio#23910).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { platform } from "../../runtime/platform/index.ts";
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
let httpPort: number;
let httpsPort: number;
const seenOverTls: { path: string; sni: string }[] = [];
const closers: (() => void)[] = [];

async function fixture(name: string): Promise<string> {
  const text = await platform.readTextFile(`${fixtures}${name}`);
  return text.replaceAll("HTTPS_PORT", String(httpsPort)).replaceAll("HTTP_PORT", String(httpPort));
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-egress-gw-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=task-ca -keyout ca.key -out ca.crt 2>/dev/null");
  await sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=edition.cnn.com -keyout server.key -out server.csr 2>/dev/null && printf 'subjectAltName=DNS:edition.cnn.com\\n' > server.ext && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext -out server.crt 2>/dev/null");
  const secure = https.createServer({ key: await platform.readTextFile(`${work}/server.key`), cert: await platform.readTextFile(`${work}/server.crt`) }, (req, res) => {
    seenOverTls.push({ path: req.url ?? "", sni: (req.socket as unknown as { servername?: string }).servername ?? "" });
    res.writeHead(200, { "content-type": "text/plain" }).end("politics\n");
  });
  await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", () => resolve()));
  httpsPort = (secure.address() as AddressInfo).port;
  const plain = http.createServer((req, res) => void res.writeHead(301, { location: `https://edition.cnn.com:${httpsPort}${req.url}` }).end());
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", () => resolve()));
  httpPort = (plain.address() as AddressInfo).port;
  closers.push(() => secure.close(), () => plain.close());

  dns = await startDnsServer();
  dns.set("edition.cnn.com", { a: [{ address: "127.0.0.1", ttl: 30 }] });
  // the origination DestinationRule names no caCertificates: the runtime's roots verify, so the test CA joins them
  process.env.NODE_EXTRA_CA_CERTS = `${work}/ca.crt`;
  process.env.DENO_CERT = `${work}/ca.crt`;

  gatewayConfig = await tempConfig({ "service-entry.yaml": await fixture("service-entry.yaml"), "gateway.yaml": await fixture("gateway.yaml"), "routes.yaml": await fixture("routes.yaml") });
  gateway = dietmesh(["gateway", "--config", gatewayConfig, "--bind", `${httpPort}=127.0.0.1:0`, "--admin", "127.0.0.1:0", "--labels", "app=istio-egressgateway,istio=egressgateway", "--access-log", "text", "--dns-server", dns.address]);
  const [, gatewayAddress] = await gateway.waitFor(new RegExp(`gateway port ${httpPort} listening on (\\S+)`));
  await gateway.waitFor(/ready on /);
  // what Kubernetes would make: the egress gateway's Service
  const egressService = serviceEntry("istio-egressgateway", "istio-egressgateway.istio-system.svc.cluster.local", [{ address: gatewayAddress }], httpPort);
  sidecarConfig = await tempConfig({ "service-entry.yaml": await fixture("service-entry.yaml"), "egress-gateway-service.yaml": egressService });
  sidecar = await startSidecar(sidecarConfig, ["--dns-server", dns.address]);
});

test.after(async () => {
  stopAll();
  gateway?.kill("SIGKILL");
  for (const close of closers) close();
  await dns.close();
  for (const dir of [work, sidecarConfig, gatewayConfig]) if (dir) await platform.remove(dir);
});

/** the task's `curl -sL -o /dev/null -D - URL`, through the sidecar: the status of each response */
async function statuses(url: string, follow = true): Promise<{ codes: number[]; out: string }> {
  const { code, out } = await run("curl", ["-sS", ...(follow ? ["-L"] : []), "-o", "/dev/null", "-D", "-", "--max-time", "10", "-x", `http://${sidecar.outbound}`, "--cacert", `${work}/ca.crt`, url]);
  assert.is(code, 0, out);
  return { codes: [...out.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1])), out };
}

test("the ServiceEntry alone: HTTP gets the external server's 301 to https", async () => {
  const r = await statuses(`http://edition.cnn.com:${httpPort}/politics`, false);
  assert.equal(r.codes, [301], r.out);
  assert.match(r.out, new RegExp(`location: https://edition.cnn.com:${httpsPort}/politics`, "i"));
});

test("through the egress gateway, which originates TLS: 200 as the only response", async () => {
  await platform.writeTextFile(`${sidecarConfig}/gateway.yaml`, await fixture("gateway.yaml"));
  await platform.writeTextFile(`${sidecarConfig}/routes.yaml`, await fixture("routes.yaml"));
  await eventually(async () => (await statuses(`http://edition.cnn.com:${httpPort}/politics`, false)).codes[0] === 200, 10_000, "routes in service");
  const before = seenOverTls.length;
  const r = await statuses(`http://edition.cnn.com:${httpPort}/politics`);
  assert.equal(r.codes, [200], r.out);
  assert.is(seenOverTls.length, before + 1);
  assert.equal(seenOverTls.at(-1), { path: "/politics", sni: "edition.cnn.com" });
  // the gateway's access log (Istio's text format) has the request and the upstream it used
  const [line] = await gateway.waitFor(/"GET \/politics HTTP\/1\.1" 200 .*/);
  assert.match(line, new RegExp(`outbound\\|${httpsPort}\\|\\|edition\\.cnn\\.com`));
});

test.run();
