// End to end, --max-request-headers and --max-request-headers-kb on every way HTTP/2 comes in (they
// were the HTTP/1.1 parser's alone): a gateway's HTTP2 port (h2c), h2c prior knowledge on plaintext
// HTTP listeners (a gateway's HTTP port, a sidecar's outbound), a gateway's HTTPS port with ALPN h2,
// and a sidecar's inbound mTLS with ALPN h2 (PERMISSIVE: the sniffing listener; STRICT: on Bun its
// native TLS listener). With 8 fields and 1 KiB, the real curl's request at both limits (the four
// pseudo-headers count, as in Envoy's HTTP/2 codec) reaches the app; a ninth field or a 1025th byte
// of names and values is reset, RST_STREAM INTERNAL_ERROR as Envoy resets it, and never does.
// Request trailers (from Node's node:http2 client, h2-trailers.mjs: curl sends none) are held to
// the same limits on their own, as Envoy's codec holds them: at both limits the request reaches the
// app; over either, the stream is reset and the app never gets a complete request. Every refusal
// is counted on the refusing proxy's /stats/prometheus (dietmesh_request_header_overflows_total:
// codec http2 for a reset, http1 for a 431), a request served is not.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { metricValue, must, root, run, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";
import { h2Get, type H2Target } from "../support/h2-head-block.ts";

const echo = startEcho("limits");
const limits = ["--max-request-headers", "8", "--max-request-headers-kb", "1"];
let work = "";
/** per way in: its name, how curl reaches it, the TLS flags of Node's client (h2-trailers.mjs), and its proxy's admin */
const targets: [string, H2Target, string[], string][] = [];
/** HTTP/1.1 ways in: name, origin, Host, the proxy's admin */
const http1: [string, string, string, string][] = [];
const withTrailers = `${root}test/support/h2-trailers.mjs`;

const config = (dir: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: limits, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 9090, name: http2, protocol: HTTP2 }
    hosts: ["*"]
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [limits.example]
    tls: { mode: SIMPLE, serverCertificate: ${dir}/tls.crt, privateKey: ${dir}/tls.key }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: limits, namespace: default }
spec:
  hosts: [limits.example]
  gateways: [limits]
  http:
  - route: [{ destination: { host: app.default.svc.cluster.local } }]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: strict, namespace: default }
spec:
  selector: { matchLabels: { mtls: strict } }
  mtls: { mode: STRICT }
`;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-h2-limits-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "curl", "--out", `${work}/curl`]);
  await must("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=limits.example", "-addext", "subjectAltName=DNS:limits.example", "-keyout", `${work}/tls.key`, "-out", `${work}/tls.crt`]);
  const dir = await tempConfig({ "app.yaml": serviceEntry("app", "app.default.svc.cluster.local", [{ address: echo.address }]), "limits.yaml": config(work) });
  const mesh = (labels: string) => [...limits, "--app", echo.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "app", "--labels", labels];
  const [gateway, permissive, strict] = await Promise.all([
    startGateway(dir, [...limits, "--bind", "9090=127.0.0.1:0", "--bind", "443=127.0.0.1:0"]),
    startSidecar(dir, mesh("app=app")),
    startSidecar(dir, mesh("app=app,mtls=strict")),
  ]);
  const [, h2c] = await gateway.child.waitFor(/gateway port 9090 listening on (\S+) \(h2c\)/);
  const [, https] = await gateway.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/);
  const prior = ["--http2-prior-knowledge"];
  const mtls = ["--http2", "-k", "--cert", `${work}/curl/cert-chain.pem`, "--key", `${work}/curl/key.pem`];
  const nodeMtls = ["--insecure", "--cert", `${work}/curl/cert-chain.pem`, "--key", `${work}/curl/key.pem`];
  targets.push(
    ["gateway HTTP2 port", { origin: `http://${h2c}`, authority: "limits.example", curl: prior }, [], gateway.admin],
    ["gateway HTTP port, h2c prior knowledge", { origin: `http://${gateway.port80}`, authority: "limits.example", curl: prior }, [], gateway.admin],
    ["sidecar outbound, h2c prior knowledge", { origin: `http://${permissive.outbound}`, authority: "app.default.svc.cluster.local:8080", curl: prior }, [], permissive.admin],
    ["gateway HTTPS, ALPN h2", { origin: "https://limits.example", authority: "limits.example", curl: ["--http2", "--cacert", `${work}/tls.crt`, "--connect-to", `limits.example:443:${https}`] }, ["--servername", "limits.example", "--ca", `${work}/tls.crt`, "--connect", https], gateway.admin],
    ["sidecar inbound mTLS (PERMISSIVE), ALPN h2", { origin: `https://${permissive.inbound}`, authority: "limits.example", curl: mtls }, nodeMtls, permissive.admin],
    ["sidecar inbound mTLS (STRICT), ALPN h2", { origin: `https://${strict.inbound}`, authority: "limits.example", curl: mtls }, nodeMtls, strict.admin],
  );
  http1.push(
    ["gateway HTTP port", `http://${gateway.port80}`, "limits.example", gateway.admin],
    ["sidecar outbound", `http://${permissive.outbound}`, "app.default.svc.cluster.local:8080", permissive.admin],
    ["sidecar inbound, plaintext (PERMISSIVE)", `http://${permissive.inbound}`, "limits.example", permissive.admin],
  );
});

test.after(async () => {
  stopAll();
  echo.server.stop();
  if (work) await platform.remove(work);
});

const reached = (path: string) => echo.requests.some((r) => new URL(r.url).pathname === path);

test("at both limits (8 fields with the pseudo-headers, 1,024 bytes of names and values): served, the app gets it", async () => {
  for (const [name, target] of targets) {
    const path = `/${name.replace(/\W+/g, "-")}/at-limits`;
    const r = await h2Get(target, path, 8, 1024);
    assert.is(r.status, 200, `${name}: ${r.out}`);
    assert.ok(reached(path), name);
  }
});

test("a ninth field, or a 1,025th byte: the stream is reset (RST_STREAM INTERNAL_ERROR), the app never sees it", async () => {
  for (const [name, target] of targets) {
    for (const [what, fields, bytes] of [["ninth-field", 9, undefined], ["byte-over", 8, 1025], ["byte-over-one-field", 5, 1025]] as const) {
      const path = `/${name.replace(/\W+/g, "-")}/${what}`;
      const r = await h2Get(target, path, fields, bytes);
      assert.is(r.code, 92, `${name} ${what}: ${r.out}`);
      assert.match(r.out, /INTERNAL_ERROR/, `${name} ${what}`);
      assert.not.ok(reached(path), `${name} ${what}: reached the app`);
    }
  }
});

/** a POST with a header block of 8 fields and 1,024 bytes, a body, and a trailer block of `fields` fields and `bytes` bytes */
async function postWithTrailers(target: H2Target, tls: string[], path: string, fields: number, bytes: number | "-"): Promise<string> {
  return (await run("node", [withTrailers, target.origin, target.authority, path, "8", "1024", String(fields), String(bytes), ...tls])).out;
}

test("trailers at both limits, after a header block at both (each block measured on its own): served, the app gets it", async () => {
  for (const [name, target, tls] of targets) {
    const path = `/${name.replace(/\W+/g, "-")}/trailers-at-limits`;
    const out = await postWithTrailers(target, tls, path, 8, 1024);
    assert.match(out, /status 200/, `${name}: ${out}`);
    assert.ok(reached(path), name);
  }
});

test("a ninth trailer, or a 1,025th byte of trailers: the stream is reset (RST_STREAM INTERNAL_ERROR), the app never gets the request", async () => {
  for (const [name, target, tls] of targets) {
    for (const [what, fields, bytes] of [["ninth-trailer", 9, "-"], ["trailer-byte-over", 8, 1025]] as const) {
      const path = `/${name.replace(/\W+/g, "-")}/${what}`;
      const out = await postWithTrailers(target, tls, path, fields, bytes);
      assert.match(out, /reset 2\b/, `${name} ${what}: ${out}`);
      assert.not.ok(reached(path), `${name} ${what}: reached the app`);
    }
  }
});

const overflows = async (admin: string, codec: string) => (await metricValue(admin, "dietmesh_request_header_overflows_total", { codec })) ?? NaN;

test("every refusal is counted on the proxy's /stats/prometheus, none served: dietmesh_request_header_overflows_total, codec http2 (header or trailer block reset) and http1 (431)", async () => {
  for (const [name, target, tls, admin] of targets) {
    const slug = name.replace(/\W+/g, "-");
    const before = await overflows(admin, "http2");
    assert.is((await h2Get(target, `/${slug}/counted-not`, 8, 1024)).status, 200, name);
    assert.is(await overflows(admin, "http2"), before, `${name}: a request served is not counted`);
    assert.is((await h2Get(target, `/${slug}/counted-head`, 9)).code, 92, name);
    assert.match(await postWithTrailers(target, tls, `/${slug}/counted-trailers`, 8, 1025), /reset 2\b/, name);
    assert.is(await overflows(admin, "http2"), before + 2, name);
  }
  // HTTP/1.1: the Host, curl's User-Agent and Accept and nine more are twelve headers of the eight allowed
  const nine = Array.from({ length: 9 }, (_, i) => ["-H", `x-h${i}: ${i}`]).flat();
  for (const [name, origin, host, admin] of http1) {
    const [before1, before2] = [await overflows(admin, "http1"), await overflows(admin, "http2")];
    const r = await run("curl", ["-sS", "--http1.1", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "-H", `Host: ${host}`, ...nine, `${origin}/counted-http1`]);
    assert.is(r.out.trim(), "431", `${name}: ${r.out}`);
    assert.is(await overflows(admin, "http1"), before1 + 1, name);
    assert.is(await overflows(admin, "http2"), before2, name);
  }
});

test.run();
