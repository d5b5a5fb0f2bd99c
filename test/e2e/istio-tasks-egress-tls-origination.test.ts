// Istio's "Egress TLS Origination" task, its steps driven with the task's own YAML
// (test/fixtures/istio-tasks/egress-tls-origination/) and curl commands: the app (curl through the
// sidecar's outbound listener, as HTTP_PROXY) calls http://edition.cnn.com/politics. The external
// service is local: an HTTP server that redirects to HTTPS, as the real one does, and an HTTPS
// server whose certificate names edition.cnn.com; the name resolves through the test DNS server
// (--dns-server), so the `resolution: DNS` ServiceEntry is resolved the way Envoy resolves it.
//   1. apply_simple: HTTP gets 301 to https, and curl -L follows it (a CONNECT tunnel) to 200;
//   2. apply_origination: the same command gets 200 as the first and only response, the
//      sidecar having originated TLS (the HTTPS server saw the request, with SNI edition.cnn.com);
//   3. HTTPS from the app still works.
// The task's second half (mutual TLS origination with a DestinationRule credentialName and a
// `resolution: NONE` ServiceEntry) is not driven: see docs/security.md.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { eventually, must, run, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

const fixtures = new URL("../fixtures/istio-tasks/egress-tls-origination/", import.meta.url).pathname;
let work: string;
let config: string;
let dns: DnsServer;
let sidecar: Sidecar;
let httpPort: number;
let httpsPort: number;
const seenOverTls: { path: string; sni: string }[] = [];
const closers: (() => void)[] = [];

async function fixture(name: string): Promise<string> {
  const text = await platform.readTextFile(`${fixtures}${name}`);
  return text.replaceAll("HTTPS_PORT", String(httpsPort)).replaceAll("HTTP_PORT", String(httpPort));
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-origination-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=task-ca -keyout ca.key -out ca.crt 2>/dev/null");
  await sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=edition.cnn.com -keyout server.key -out server.csr 2>/dev/null && printf 'subjectAltName=DNS:edition.cnn.com\\n' > server.ext && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext -out server.crt 2>/dev/null");

  const secure = https.createServer({ key: await platform.readTextFile(`${work}/server.key`), cert: await platform.readTextFile(`${work}/server.crt`) }, (req, res) => {
    seenOverTls.push({ path: req.url ?? "", sni: (req.socket as unknown as { servername?: string }).servername ?? "" });
    res.writeHead(200, { "content-type": "text/plain" }).end("politics\n");
  });
  await new Promise<void>((resolve) => secure.listen(0, "127.0.0.1", () => resolve()));
  httpsPort = (secure.address() as AddressInfo).port;
  const plain = http.createServer((req, res) => {
    res.writeHead(301, { location: `https://edition.cnn.com:${httpsPort}${req.url}` }).end();
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", () => resolve()));
  httpPort = (plain.address() as AddressInfo).port;
  closers.push(() => secure.close(), () => plain.close());

  dns = await startDnsServer();
  dns.set("edition.cnn.com", { a: [{ address: "127.0.0.1", ttl: 30 }] });
  // the DestinationRule names no caCertificates: the runtime's roots verify the server, so the test CA joins them
  process.env.NODE_EXTRA_CA_CERTS = `${work}/ca.crt`;
  process.env.DENO_CERT = `${work}/ca.crt`;
  config = await tempConfig({ "task.yaml": await fixture("apply-simple.yaml") });
  sidecar = await startSidecar(config, ["--dns-server", dns.address]);
});

test.after(async () => {
  stopAll();
  for (const close of closers) close();
  await dns.close();
  await platform.remove(work);
  await platform.remove(config);
});

/** the task's `curl -sSL -o /dev/null -D - URL`, through the sidecar as the app's HTTP proxy: the status of each response */
async function statuses(url: string, follow = true): Promise<{ codes: number[]; out: string }> {
  const { code, out } = await run("curl", ["-sS", ...(follow ? ["-L"] : []), "-o", "/dev/null", "-D", "-", "--max-time", "10", "-x", `http://${sidecar.outbound}`, "--cacert", `${work}/ca.crt`, url]);
  assert.is(code, 0, out);
  return { codes: [...out.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((m) => Number(m[1])), out };
}

test("apply_simple: HTTP to edition.cnn.com is redirected to HTTPS; curl -L follows it to 200", async () => {
  const r = await statuses(`http://edition.cnn.com:${httpPort}/politics`);
  // (through a proxy, the CONNECT's own 200 comes between the two)
  assert.is(r.codes[0], 301, r.out);
  assert.is(r.codes.at(-1), 200, r.out);
  assert.match(r.out, new RegExp(`location: https://edition.cnn.com:${httpsPort}/politics`, "i"));
});

test("apply_origination: the same request gets 200 as the first and only response, over TLS the sidecar opened", async () => {
  await platform.writeTextFile(`${config}/task.yaml`, await fixture("apply-origination.yaml"));
  const before = seenOverTls.length;
  await eventually(async () => (await statuses(`http://edition.cnn.com:${httpPort}/politics`, false)).codes[0] === 200, 10_000, "TLS origination in service");
  const r = await statuses(`http://edition.cnn.com:${httpPort}/politics`);
  assert.equal(r.codes, [200], r.out);
  const last = seenOverTls.at(-1)!;
  assert.ok(seenOverTls.length > before);
  assert.equal(last, { path: "/politics", sni: "edition.cnn.com" });
});

test("applications that use HTTPS keep working", async () => {
  const r = await statuses(`https://edition.cnn.com:${httpsPort}/politics`);
  assert.equal(r.codes.at(-1), 200, r.out);
});

test.run();
