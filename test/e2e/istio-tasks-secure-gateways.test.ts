// Istio's "Secure Gateways" task (the Istio API half), driven with the task's own YAML
// (test/fixtures/istio-tasks/secure-gateways/), its openssl commands (RSA keys, CN-only
// certificates, as published) and its curl commands against a gateway whose port 443 is bound
// on loopback. The Secrets the task makes with `kubectl create secret` are files under
// --credentials-dir, replaced by rename as a Secret update reaches a pod. httpbin and helloworld
// are local servers behind ServiceEntries (the task deploys them as Kubernetes Services).
//   single host (SIMPLE): 418 from httpbin; the secret replaced by a new CA's: new CA works, old fails;
//   multiple hosts: each host its own credential by SNI;
//   mutual TLS: no client certificate is refused in the handshake; the client's certificate gets 418.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { dietmesh, eventually, metricValue, must, serviceEntry, tempConfig } from "../support/mesh.ts";
import type { Child } from "../../runtime/platform/process.ts";

const fixtures = new URL("../fixtures/istio-tasks/secure-gateways/", import.meta.url).pathname;
const TEAPOT = "\n    -=[ teapot ]=-\n";
let work: string;
let creds: string;
let config: string;
let gateway: Child;
let port: string;
let admin: string;
const servers: { stop(): unknown }[] = [];

const fixture = (name: string) => platform.readTextFile(`${fixtures}${name}`);
const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);

/** `kubectl create secret` into the credentials dir: written beside, then renamed into place */
async function secret(name: string, files: Record<string, string>): Promise<void> {
  const parts = Object.entries(files).map(([to, from]) => `cp ${from} ${creds}/${name}/${to}.tmp && mv ${creds}/${name}/${to}.tmp ${creds}/${name}/${to}`);
  await sh([`mkdir -p ${creds}/${name}`, `rm -f ${creds}/${name}/ca.crt`, ...parts].join(" && "));
}

async function curl(host: string, path: string, extra: string[]): Promise<{ code: number; status: string; body: string }> {
  const child = runCommand("curl", ["-s", "--max-time", "10", `-HHost:${host}`, "--resolve", `${host}:${port}:127.0.0.1`, ...extra, "-w", "\n%{http_code}", `https://${host}:${port}${path}`]);
  const code = (await child.exited) ?? -1;
  const lines = child.lines;
  return { code, status: lines.at(-1) ?? "", body: lines.slice(0, -1).join("\n") };
}

function app(name: string, answer: (path: string) => Response) {
  const server = platform.serve({ hostname: "127.0.0.1", port: 0, handler: (req) => answer(new URL(req.url).pathname) });
  servers.push(server as unknown as { stop(): unknown });
  return `127.0.0.1:${server.port}`;
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-secure-");
  creds = `${work}/credentials`;
  // the task's commands (snip_generate_client_and_server_certificates_and_keys_1..5)
  await sh("mkdir example_certs1 && openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' -keyout example_certs1/example.com.key -out example_certs1/example.com.crt 2>/dev/null");
  await sh(`openssl req -out example_certs1/httpbin.example.com.csr -newkey rsa:2048 -nodes -keyout example_certs1/httpbin.example.com.key -subj "/CN=httpbin.example.com/O=httpbin organization" 2>/dev/null && openssl x509 -req -sha256 -days 365 -CA example_certs1/example.com.crt -CAkey example_certs1/example.com.key -set_serial 0 -in example_certs1/httpbin.example.com.csr -out example_certs1/httpbin.example.com.crt 2>/dev/null`);
  await sh("mkdir example_certs2 && openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' -keyout example_certs2/example.com.key -out example_certs2/example.com.crt 2>/dev/null");
  await sh(`openssl req -out example_certs2/httpbin.example.com.csr -newkey rsa:2048 -nodes -keyout example_certs2/httpbin.example.com.key -subj "/CN=httpbin.example.com/O=httpbin organization" 2>/dev/null && openssl x509 -req -sha256 -days 365 -CA example_certs2/example.com.crt -CAkey example_certs2/example.com.key -set_serial 0 -in example_certs2/httpbin.example.com.csr -out example_certs2/httpbin.example.com.crt 2>/dev/null`);
  await sh(`openssl req -out example_certs1/helloworld.example.com.csr -newkey rsa:2048 -nodes -keyout example_certs1/helloworld.example.com.key -subj "/CN=helloworld.example.com/O=helloworld organization" 2>/dev/null && openssl x509 -req -sha256 -days 365 -CA example_certs1/example.com.crt -CAkey example_certs1/example.com.key -set_serial 1 -in example_certs1/helloworld.example.com.csr -out example_certs1/helloworld.example.com.crt 2>/dev/null`);
  await sh(`openssl req -out example_certs1/client.example.com.csr -newkey rsa:2048 -nodes -keyout example_certs1/client.example.com.key -subj "/CN=client.example.com/O=client organization" 2>/dev/null && openssl x509 -req -sha256 -days 365 -CA example_certs1/example.com.crt -CAkey example_certs1/example.com.key -set_serial 1 -in example_certs1/client.example.com.csr -out example_certs1/client.example.com.crt 2>/dev/null`);

  const httpbin = app("httpbin", (path) => (path.startsWith("/status/418") ? new Response(TEAPOT, { status: 418 }) : new Response("ok")));
  const helloworld = app("helloworld", (path) => new Response(path === "/hello" ? "Hello version: v1\n" : "no", { status: path === "/hello" ? 200 : 404 }));
  await secret("httpbin-credential", { "tls.key": "example_certs1/httpbin.example.com.key", "tls.crt": "example_certs1/httpbin.example.com.crt" });
  config = await tempConfig({
    "services.yaml": serviceEntry("httpbin", "httpbin.default.svc.cluster.local", [{ address: httpbin }], 8000) + "---\n" + serviceEntry("helloworld", "helloworld.default.svc.cluster.local", [{ address: helloworld }], 5000),
    "gateway.yaml": await fixture("gateway-single.yaml"),
    "httpbin.yaml": await fixture("virtualservice-httpbin.yaml"),
  });
  // the task's gateway has port 443 only (startGateway() waits for port 80)
  gateway = dietmesh(["gateway", "--config", config, "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0", "--credentials-dir", creds]);
  [, port] = (await gateway.waitFor(/gateway port 443 listening on \S+:(\d+) \(HTTPS\)/)) as [string, string];
  [, admin] = (await gateway.waitFor(/ready on \S+ admin (\S+)/)) as [string, string];
});

test.after(async () => {
  gateway?.kill("SIGKILL");
  for (const s of servers) s.stop();
  await platform.remove(work);
  await platform.remove(config);
});

const CA1 = ["--cacert", "example_certs1/example.com.crt"];
const CA2 = ["--cacert", "example_certs2/example.com.crt"];
const abs = (args: string[]) => args.map((a) => (a.startsWith("example_certs") ? `${work}/${a}` : a));

test("single host: httpbin.example.com over HTTPS with httpbin-credential answers 418 (the teapot)", async () => {
  const r = await curl("httpbin.example.com", "/status/418", abs(CA1));
  assert.is(r.code, 0, r.body);
  assert.is(r.status, "418");
  assert.ok(r.body.includes("-=[ teapot ]=-"), r.body);
});

/** the gateway's dietmesh_certificate_expiry_timestamp_seconds for a credentialName, and openssl's notAfter of a certificate file */
async function expiries(name: string, file: string): Promise<{ metric?: number; openssl: number }> {
  const end = await must("openssl", ["x509", "-noout", "-enddate", "-in", `${work}/${file}`]);
  return { metric: await metricValue(admin, "dietmesh_certificate_expiry_timestamp_seconds", { name }), openssl: Date.parse(/notAfter=(.+)/.exec(end)![1].trim()) / 1000 };
}

test("the credential's certificate is in dietmesh_certificate_expiry_timestamp_seconds by its credentialName", async () => {
  const { metric, openssl } = await expiries("httpbin-credential", "example_certs1/httpbin.example.com.crt");
  assert.is(metric, openssl);
});

test("the secret replaced with example_certs2: the new CA verifies it, the old one no longer does", async () => {
  await secret("httpbin-credential", { "tls.key": "example_certs2/httpbin.example.com.key", "tls.crt": "example_certs2/httpbin.example.com.crt" });
  await eventually(async () => (await curl("httpbin.example.com", "/status/418", abs(CA2))).status === "418", 10_000, "the new credential served");
  const old = await curl("httpbin.example.com", "/status/418", abs(CA1));
  assert.is.not(old.code, 0, "example_certs1's CA must not verify the new certificate");
});

test("multiple hosts: helloworld.example.com gets helloworld-credential by SNI, httpbin keeps its own", async () => {
  await secret("httpbin-credential", { "tls.key": "example_certs1/httpbin.example.com.key", "tls.crt": "example_certs1/httpbin.example.com.crt" });
  await secret("helloworld-credential", { "tls.key": "example_certs1/helloworld.example.com.key", "tls.crt": "example_certs1/helloworld.example.com.crt" });
  await platform.writeTextFile(`${config}/helloworld.yaml`, await fixture("virtualservice-helloworld.yaml"));
  await platform.writeTextFile(`${config}/gateway.yaml`, await fixture("gateway-multiple.yaml"));
  await eventually(async () => (await curl("helloworld.example.com", "/hello", abs(CA1))).status === "200", 10_000, "helloworld served");
  const hello = await curl("helloworld.example.com", "/hello", abs(CA1));
  assert.match(hello.body, /Hello version: v1/);
  const bin = await curl("httpbin.example.com", "/status/418", abs(CA1));
  assert.is(bin.status, "418", bin.body);
  assert.ok(bin.body.includes("-=[ teapot ]=-"));
});

test("mutual TLS: without a client certificate the handshake fails; with client.example.com's, 418", async () => {
  await secret("httpbin-credential", { "tls.key": "example_certs1/httpbin.example.com.key", "tls.crt": "example_certs1/httpbin.example.com.crt", "ca.crt": "example_certs1/example.com.crt" });
  await platform.writeTextFile(`${config}/gateway.yaml`, await fixture("gateway-mutual.yaml"));
  const client = abs([...CA1, "--cert", "example_certs1/client.example.com.crt", "--key", "example_certs1/client.example.com.key"]);
  // in force once a request without a certificate is refused
  await eventually(async () => (await curl("httpbin.example.com", "/status/418", abs(CA1))).code !== 0, 10_000, "MUTUAL in force");
  const r = await curl("httpbin.example.com", "/status/418", client);
  assert.is(r.code, 0, r.body);
  assert.is(r.status, "418");
  assert.ok(r.body.includes("-=[ teapot ]=-"));
  // the CA that client certificates are checked against counts too, as Envoy counts CA certificates
  const ca = await expiries("ca:httpbin-credential", "example_certs1/example.com.crt");
  assert.is(ca.metric, ca.openssl, "the client CA's notAfter as ca:<credentialName>");
});

test("a SIMPLE credential of a leaf alone reports no CA certificate", async () => {
  await secret("helloworld-credential", { "tls.key": "example_certs1/helloworld.example.com.key", "tls.crt": "example_certs1/helloworld.example.com.crt" });
  assert.is(await metricValue(admin, "dietmesh_certificate_expiry_timestamp_seconds", { name: "ca:helloworld-credential" }), undefined);
});

test.run();
