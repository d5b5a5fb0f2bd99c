// End to end, a sidecar's outbound side to ports declared HTTP2 (issue 12): an HTTP/1.1 client's
// request to a plaintext endpoint goes upstream as HTTP/2 (h2c), never as HTTP/1.1; an endpoint
// the sidecar must reach over mesh mTLS gets mTLS (here a plaintext server, so the connection
// fails: 503 UF, never h2c in the clear); one behind TLS origination (DestinationRule SIMPLE) is
// refused, as HTTP/2 over origination is not built. h2 inside mTLS: http2-mtls.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http2 from "node:http2";
import { platform } from "../../runtime/platform/index.ts";
import { curl, must, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

let upstream: http2.Http2Server;
let upstreamPort = 0;
const seen: { path: string; authority: string; te?: string }[] = [];
let sidecar: Sidecar;
let work: string;

const entry = (name: string, port: number, serviceAccount?: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: h2, protocol: HTTP2 }]
  endpoints:
  - { address: 127.0.0.1, ports: { h2: ${port} }${serviceAccount ? `, serviceAccount: ${serviceAccount}` : ""} }
`;

test.before(async () => {
  // an upstream that speaks HTTP/2 only: an HTTP/1.1 request would fail here, not be answered
  upstream = http2.createServer();
  upstream.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    seen.push({ path: String(headers[":path"]), authority: String(headers[":authority"]) });
    stream.respond({ ":status": 200, "content-type": "text/plain", "x-upstream": "h2" });
    stream.end("hello over h2");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as { port: number }).port;
  work = await platform.makeTempDir("dietmesh-h2-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const config = await tempConfig({
    "plain.yaml": entry("plain", upstreamPort),
    "meshy.yaml": entry("meshy", upstreamPort, "reviews"),
    "outside.yaml": `${entry("outside", upstreamPort)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: outside, namespace: default }
spec:
  host: outside.example
  trafficPolicy: { tls: { mode: SIMPLE } }
`,
  });
  sidecar = await startSidecar(config, ["--ca-dir", `${work}/ca`, "--service-account", "productpage"]);
});

test.after(async () => {
  stopAll();
  await new Promise((resolve) => upstream.close(resolve));
  await platform.remove(work);
});

test("HTTP/1.1 in, HTTP/2 out: a plaintext HTTP2 port is reached over h2c", async () => {
  const r = await curl(["-x", `http://${sidecar.outbound}`, "http://plain.example:9000/hello?x=1"]);
  assert.is(r.status, 200, r.body);
  assert.is(r.body, "hello over h2");
  assert.is(r.headers["x-upstream"], "h2");
  assert.equal(seen.at(-1), { path: "/hello?x=1", authority: "plain.example:9000" });
});

test("an HTTP2 port behind mesh mTLS is reached over mTLS only: a plaintext server fails the connect (503 UF)", async () => {
  const before = seen.length;
  const r = await curl(["-x", `http://${sidecar.outbound}`, "http://meshy.example:9000/hello"]);
  assert.is(r.status, 503);
  // a connection failure (UF) to the retry policy as well: Istio's default retries it (URX)
  assert.match(r.headers["x-dietmesh-response-flags"], /(^|,)UF$/);
  assert.is(seen.length, before);
});

test("an HTTP2 port behind TLS origination: refused (503 UF), nothing sent upstream, the reason logged", async () => {
  const before = seen.length;
  const r = await curl(["-x", `http://${sidecar.outbound}`, "http://outside.example:9000/hello"]);
  assert.is(r.status, 503);
  assert.match(r.headers["x-dietmesh-response-flags"], /(^|,)UF$/);
  assert.is(seen.length, before);
  await sidecar.child.waitFor(/127\.0\.0\.1:\d+ is a HTTP2 port reached over TLS origination: HTTP\/2 over TLS origination is not built yet/);
});

test.run();
