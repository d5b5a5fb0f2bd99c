// End to end, HTTPS at the gateway (issue 13): Gateway servers with protocol HTTPS and tls.mode
// SIMPLE on one port, each host served its own certificate by SNI (exact and "*." wildcard), checked
// with curl and openssl s_client against a CA made here; the app sees x-forwarded-proto https; an
// SNI no server names is refused in the handshake; a certificate file replaced on disk (an atomic
// rename) is served to new connections with no failed request across the swap; TLS settings that
// are not built are refused by `dietmesh check` with the field named, never served as plaintext.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { curl, eventually, metricValue, must, run, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const app = startEcho("secure");
let work: string;
let gateway: Gateway;
let https: string; // 127.0.0.1:PORT of Gateway port 443

const gatewayYaml = (dir: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: secure }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [a.example]
    tls: { httpsRedirect: true }
  - port: { number: 80, name: http-plain, protocol: HTTP }
    hosts: [plain.example]
  - port: { number: 443, name: https-a, protocol: HTTPS }
    hosts: [a.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/a/tls.crt, privateKey: ${dir}/a/tls.key }
  - port: { number: 443, name: https-b, protocol: HTTPS }
    hosts: ["*.b.example"]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/b/tls.crt, privateKey: ${dir}/b/tls.key, minProtocolVersion: TLSV1_2 }
  - port: { number: 443, name: https-v12, protocol: HTTPS }
    hosts: [v12.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/v/tls.crt, privateKey: ${dir}/v/tls.key, maxProtocolVersion: TLSV1_2 }
  - port: { number: 443, name: https-v13, protocol: HTTPS }
    hosts: [v13.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/v/tls.crt, privateKey: ${dir}/v/tls.key, minProtocolVersion: TLSV1_3 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: secure }
spec:
  hosts: [a.example, "*.b.example", plain.example]
  gateways: [secure]
  http:
  - route: [{ destination: { host: app.default.svc.cluster.local } }]
`;

/** a key and a certificate for names, signed by the test CA, valid for days */
async function issue(dir: string, name: string, sans: string, cn: string, days = 1): Promise<void> {
  await must("sh", ["-c", [
    `mkdir -p ${dir}/${name}-new`,
    `openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${cn} -keyout ${dir}/${name}-new/tls.key -out ${dir}/${name}-new/req.csr 2>/dev/null`,
    `printf 'subjectAltName=${sans}\\n' > ${dir}/${name}-new/ext`,
    `openssl x509 -req -in ${dir}/${name}-new/req.csr -CA ${dir}/ca.crt -CAkey ${dir}/ca.key -CAcreateserial -days ${days} -extfile ${dir}/${name}-new/ext -out ${dir}/${name}-new/tls.crt 2>/dev/null`,
  ].join(" && ")]);
}

/** moves dir/name-new/{tls.crt,tls.key} into dir/name by rename, key first then certificate */
async function install(dir: string, name: string): Promise<void> {
  await must("sh", ["-c", `mkdir -p ${dir}/${name} && mv ${dir}/${name}-new/tls.key ${dir}/${name}/tls.key.tmp && mv ${dir}/${name}-new/tls.crt ${dir}/${name}/tls.crt.tmp && mv ${dir}/${name}/tls.key.tmp ${dir}/${name}/tls.key && mv ${dir}/${name}/tls.crt.tmp ${dir}/${name}/tls.crt`]);
}

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-https-");
  await must("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3", "-subj", "/CN=test-ca", "-keyout", `${work}/ca.key`, "-out", `${work}/ca.crt`]);
  await issue(work, "a", "DNS:a.example", "a-first");
  await install(work, "a");
  await issue(work, "b", "DNS:*.b.example", "b-wildcard");
  await install(work, "b");
  await issue(work, "v", "DNS:v12.example,DNS:v13.example,DNS:suites.example", "versions");
  await install(work, "v");
  const config = await tempConfig({ "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]), "gateway.yaml": gatewayYaml(work) });
  gateway = await startGateway(config, ["--bind", "443=127.0.0.1:0", "--access-log", "json"]);
  [, https] = await gateway.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await platform.remove(work);
});

const port = () => https.split(":")[1];

/** notAfter of a certificate file as openssl reads it, in Unix seconds */
async function opensslNotAfter(file: string): Promise<number> {
  const out = await must("openssl", ["x509", "-noout", "-enddate", "-in", file]);
  return Date.parse(/notAfter=(.+)/.exec(out)![1].trim()) / 1000;
}

/** the gateway's dietmesh_certificate_expiry_timestamp_seconds for name */
const expiryMetric = (name: string) => metricValue(gateway.admin, "dietmesh_certificate_expiry_timestamp_seconds", { name });

/** curl over HTTPS to host, verifying the gateway's certificate against the test CA */
async function httpsGet(host: string, path = "/", extra: string[] = []): Promise<{ code: number; status: string; body: string; version: string }> {
  const child = runCommand("curl", ["-s", "--max-time", "10", ...extra, "--cacert", `${work}/ca.crt`, "--resolve", `${host}:${port()}:127.0.0.1`, "-w", "\n%{http_version} %{http_code}", `https://${host}:${port()}${path}`]);
  const code = (await child.exited) ?? -1;
  const lines = child.lines;
  const [version, status] = (lines[lines.length - 1] ?? "").split(" ");
  return { code, status: status ?? "", version: version ?? "", body: lines.slice(0, -1).join("\n") };
}

/** the subject CN of the certificate the gateway serves for servername */
async function servedCn(servername: string): Promise<string> {
  const child = runCommand("sh", ["-c", `openssl s_client -connect ${https} -servername ${servername} </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
  await child.exited;
  return /CN\s*=\s*(\S+)/.exec(child.lines.join(" "))?.[1] ?? `(none: ${child.lines.join(" ")})`;
}

test("each host gets its own certificate by SNI, verified by curl against the CA; the app sees https", async () => {
  const a = await httpsGet("a.example", "/hello");
  assert.is(a.code, 0, a.body);
  assert.is(a.status, "200");
  const seen = JSON.parse(a.body);
  assert.is(seen.headers["x-forwarded-proto"], "https");
  assert.is(seen.headers.host, `a.example:${port()}`);
  const b = await httpsGet("shop.b.example");
  assert.is(b.status, "200", "the wildcard server's certificate verifies for shop.b.example");
  assert.is(await servedCn("a.example"), "a-first");
  assert.is(await servedCn("shop.b.example"), "b-wildcard");
});

test("the access log has the server name the client asked for and the listener's address (requested_server_name, downstream_local_address)", async () => {
  const r = await httpsGet("a.example", "/sni-logged");
  assert.is(r.status, "200", r.body);
  const line = await eventually(async () => gateway.child.lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((e) => e?.path === "/sni-logged"), 5000, "the request's log line");
  assert.is(line.requested_server_name, "a.example");
  assert.is(line.downstream_local_address, `127.0.0.1:${port()}`);
});

test("each certificate in service is in dietmesh_certificate_expiry_timestamp_seconds, by its file, with the notAfter openssl reads", async () => {
  for (const name of ["a", "b", "v"]) {
    const file = `${work}/${name}/tls.crt`;
    assert.is(await expiryMetric(file), await opensslNotAfter(file), file);
  }
});

test("HTTP/2 by ALPN, as an Istio gateway's HTTPS listener offers it: curl --http2 gets h2 through the same routes; --http1.1 stays HTTP/1.1", async () => {
  const h2 = await httpsGet("a.example", "/over-h2", ["--http2"]);
  assert.is(h2.code, 0, h2.body);
  assert.is(h2.version, "2", "ALPN chose h2");
  assert.is(h2.status, "200");
  const seen = JSON.parse(h2.body);
  assert.is(seen.headers["x-forwarded-proto"], "https");
  assert.ok(String(seen.url).endsWith("/over-h2"), seen.url);
  const h1 = await httpsGet("a.example", "/over-h1", ["--http1.1"]);
  assert.is(h1.version, "1.1");
  assert.is(h1.status, "200");
  const wildcard = await httpsGet("shop.b.example", "/", ["--http2"]);
  assert.is(wildcard.version, "2");
  assert.is(wildcard.status, "200", "the SNI-chosen certificate serves h2 too");
});

/** what openssl s_client negotiated with address for servername: "TLSv1.2 ECDHE-…", or "none" when the handshake failed */
async function negotiated(servername: string, options: string[] = [], address = https): Promise<string> {
  const child = runCommand("sh", ["-c", `openssl s_client -connect ${address} -servername ${servername} ${options.join(" ")} </dev/null 2>&1`]);
  await child.exited;
  const m = /New, (TLSv1(?:\.\d)?), Cipher is (\S+)/.exec(child.lines.join("\n"));
  return m && m[2] !== "(NONE)" ? `${m[1]} ${m[2]}` : "none";
}

test("minProtocolVersion and maxProtocolVersion are honoured per server (chosen by SNI); other servers on the port keep the defaults", async () => {
  assert.match(await negotiated("v12.example"), /^TLSv1\.2 /);
  assert.is(await negotiated("v12.example", ["-tls1_3"]), "none", "TLS 1.3 refused above maxProtocolVersion");
  assert.match(await negotiated("v13.example"), /^TLSv1\.3 /);
  assert.is(await negotiated("v13.example", ["-tls1_2"]), "none", "TLS 1.2 refused below minProtocolVersion");
  assert.match(await negotiated("a.example"), /^TLSv1\.3 /);
  assert.match(await negotiated("a.example", ["-tls1_2"]), /^TLSv1\.2 /);
});

test("a server for \"*\" takes clients without SNI and names no other server claims; a named server keeps its own", async () => {
  const config = await tempConfig({
    "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: app.address }]),
    "gateway.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: any }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https-a, protocol: HTTPS }
    hosts: [a.example]
    tls: { mode: SIMPLE, serverCertificate: ${work}/a/tls.crt, privateKey: ${work}/a/tls.key }
  - port: { number: 443, name: https-any, protocol: HTTPS }
    hosts: ["*"]
    tls: { mode: SIMPLE, serverCertificate: ${work}/b/tls.crt, privateKey: ${work}/b/tls.key }
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [a.example]
`,
  });
  const any = await startGateway(config, ["--bind", "443=127.0.0.1:0"]);
  const [, address] = await any.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/);
  const cn = async (options: string) => {
    const child = runCommand("sh", ["-c", `openssl s_client -connect ${address} ${options} </dev/null 2>/dev/null | openssl x509 -noout -subject`]);
    await child.exited;
    return /CN\s*=\s*(\S+)/.exec(child.lines.join(" "))?.[1] ?? "(none)";
  };
  assert.is(await cn("-noservername"), "b-wildcard", "no SNI: the * server");
  assert.is(await cn("-servername elsewhere.test"), "b-wildcard", "an SNI nobody names: the * server");
  assert.match(await cn("-servername a.example"), /^a-(first|second)$/, "the named server keeps its own certificate");
  any.child.kill();
});

const suitesYaml = (dir: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: suites }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https-suites, protocol: HTTPS }
    hosts: [suites.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/v/tls.crt, privateKey: ${dir}/v/tls.key, cipherSuites: [ECDHE-ECDSA-AES256-GCM-SHA384] }
  - port: { number: 443, name: https-old, protocol: HTTPS }
    hosts: [v12.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/v/tls.crt, privateKey: ${dir}/v/tls.key, minProtocolVersion: TLSV1_0, maxProtocolVersion: TLSV1_2, cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES128-SHA] }
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: [suites.example]
`;

test("cipherSuites (TLS 1.2 suites, TLS 1.3 untouched as in Envoy) and TLSV1_0 on Bun; refused at load on Deno, whose node:tls cannot honour them", async () => {
  const config = await tempConfig({ "gateway.yaml": suitesYaml(work) });
  if (platform.name === "deno") {
    const r = await run("dietmesh", ["gateway", "--config", config, "--bind", "80=127.0.0.1:0", "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    assert.is(r.code, 1, r.out);
    assert.match(r.out, /Gateway default\/suites \(\S*gateway\.yaml, document 1\) spec\.servers\[0\]\.tls\.cipherSuites: cipherSuites cannot be honoured on Deno/);
    assert.match(r.out, /spec\.servers\[1\]\.tls\.minProtocolVersion: TLS 1\.0 and 1\.1 cannot be served on Deno/);
    assert.not.match(r.out, /ready on/);
    return;
  }
  const suites = await startGateway(config, ["--bind", "443=127.0.0.1:0"]);
  const [, address] = await suites.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/);
  assert.match(await negotiated("suites.example", [], address), /^TLSv1\.3 /, "cipherSuites leave TLS 1.3 as it is");
  assert.is(await negotiated("suites.example", ["-tls1_2"], address), "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384");
  assert.is(await negotiated("suites.example", ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], address), "none", "a suite outside cipherSuites is refused");
  assert.is(await negotiated("v12.example", [], address), "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256", "the server's preference among its suites");
  assert.match(await negotiated("v12.example", ["-tls1", "-cipher", "ECDHE-ECDSA-AES128-SHA@SECLEVEL=0"], address), /^TLSv1(\.0)? ECDHE-ECDSA-AES128-SHA$/, "TLS 1.0 from minProtocolVersion TLSV1_0");
  assert.is(await negotiated("v12.example", ["-tls1_3"], address), "none");
  suites.child.kill();
});

test("httpsRedirect: plain HTTP to a.example is answered 301 with the https URL (port 80 dropped, path and query kept); other hosts on port 80 are served", async () => {
  const r = await curl(["-H", "Host: a.example", `http://${gateway.port80}/x/y?q=1`]);
  assert.is(r.status, 301);
  assert.is(r.headers.location, "https://a.example/x/y?q=1");
  const kept = await curl(["-H", "Host: a.example:8080", `http://${gateway.port80}/z`]);
  assert.is(kept.headers.location, "https://a.example:8080/z");
  const plain = await curl(["-H", "Host: plain.example", `http://${gateway.port80}/p`]);
  assert.is(plain.status, 200, plain.body);
});

test("an SNI no server names is refused in the handshake, and no SNI when no server is \"*\" (Envoy finds no filter chain); plaintext HTTP on the HTTPS port too", async () => {
  const r = await httpsGet("c.example");
  assert.is.not(r.code, 0, "curl's handshake failed");
  const noSni = runCommand("sh", ["-c", `openssl s_client -connect ${https} -noservername </dev/null 2>&1`]);
  await noSni.exited;
  assert.not.match(noSni.lines.join("\n"), /New, TLSv1\.\d, Cipher is [A-Z]/, "no handshake without SNI");
  const plain = runCommand("curl", ["-s", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", `http://${https}/`]);
  await plain.exited;
  assert.is.not(plain.lines.join(""), "200");
});

test("a renewed certificate (files replaced by rename) reaches new connections, with no failed request across the swap", async () => {
  const before = await expiryMetric(`${work}/a/tls.crt`);
  await issue(work, "a", "DNS:a.example", "a-second", 2); // a day longer: its notAfter must show
  // 1,000 requests, each on a new connection (Connection: close), while the files are swapped
  const urls = Array.from({ length: 1000 }, (_, i) => `https://a.example:${port()}/swap/${i}`);
  const load = runCommand("curl", ["-s", "--cacert", `${work}/ca.crt`, "--resolve", `a.example:${port()}:127.0.0.1`, "-H", "Connection: close", "-w", "\n%{http_code}\n", ...urls]);
  await load.waitFor(/^200$/);
  await install(work, "a");
  await load.exited;
  const codes = load.lines.filter((l) => /^\d{3}$/.test(l));
  assert.is(codes.length, 1000, load.lines.slice(-5).join(" | "));
  assert.equal([...new Set(codes)], ["200"], "every request across the swap succeeded");
  await eventually(async () => (await servedCn("a.example")) === "a-second", 5000, "the new certificate to be served");
  const renewed = await opensslNotAfter(`${work}/a/tls.crt`);
  assert.ok(before !== undefined && renewed > before, `${renewed} after ${before}`);
  assert.is(await expiryMetric(`${work}/a/tls.crt`), renewed, "the metric follows the renewal");
});

test("TLS the gateway cannot serve yet is refused at load with the field named", async () => {
  const config = await tempConfig({
    "gw.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: several }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [m.example]
    tls: { mode: SIMPLE, tlsCertificates: [{ serverCertificate: /x.crt, privateKey: /x.key }] }
  - port: { number: 8443, name: https-cred, protocol: HTTPS }
    hosts: [k.example]
    tls: { mode: SIMPLE, credentialNames: [k-rsa, k-ec] }
`,
  });
  const { code, out } = await run("dietmesh", ["check", config]);
  assert.is.not(code, 0);
  assert.match(out, /spec\.servers\[0\]\.tls\.tlsCertificates: tls\.tlsCertificates is not supported/);
  assert.match(out, /spec\.servers\[1\]\.tls\.credentialNames: tls\.credentialNames is not supported/);
});

test.run();
