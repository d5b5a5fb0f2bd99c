// End to end, a mesh whose CA has its own trust domain (`dietmesh ca init --trust-domain
// example.org`): an endpoint's expected identity is spiffe://<the mesh's trust domain>/ns/<ns>/sa/<sa>,
// as istiod makes it, so the mTLS hop works (it failed with UF when serviceAccount was always read
// as cluster.local), and the principals in Istio's metrics are the certificates' own. A proxy
// without a certificate reports its principal "unknown", as does the destination side of a
// request that came in plaintext.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, must, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, metricValue, type Sidecar } from "../support/mesh.ts";

const app = startEcho("b-app");
let a: Sidecar;
let b: Sidecar;
let plain: Sidecar;
let work: string;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-td-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`, "--trust-domain", "example.org"]);
  const bConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: "127.0.0.1:9", labels: { app: "b" } }]) });
  b = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b"]);
  const aConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]) });
  a = await startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a", "--labels", "app=a"]);
  // no identity at all: it reaches B's inbound in plaintext (B is PERMISSIVE)
  const plainConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound! }]) });
  plain = await startSidecar(plainConfig, ["--service-account", "c", "--labels", "app=c"]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await platform.remove(work);
});

test("the mTLS hop checks B's certificate against spiffe://example.org/ns/default/sa/b and succeeds", async () => {
  const r = await curl(["-H", "Host: b:8080", `http://${a.outbound}/td`]);
  assert.is(r.status, 200, `${r.status} ${r.headers["x-dietmesh-response-flags"] ?? ""} ${r.body}`);
  assert.is(JSON.parse(r.body).headers["x-forwarded-client-cert"]?.includes("URI=spiffe://example.org/ns/default/sa/a"), true, r.body);
});

test("both sides' metrics carry the certificates' principals, in the CA's trust domain", async () => {
  const atB = await metricValue(b.admin, "istio_requests_total", { reporter: "destination", source_principal: "spiffe://example.org/ns/default/sa/a", destination_principal: "spiffe://example.org/ns/default/sa/b", connection_security_policy: "mutual_tls" });
  assert.ok((atB ?? 0) >= 1, `B's destination-side series (${atB})`);
  const atA = await metricValue(a.admin, "istio_requests_total", { reporter: "source", source_principal: "spiffe://example.org/ns/default/sa/a", destination_principal: "spiffe://example.org/ns/default/sa/b" });
  assert.ok((atA ?? 0) >= 1, `A's source-side series (${atA})`);
});

test("no certificate, no principal: the proxy without one, and B for a request that came in plaintext, say unknown", async () => {
  const r = await curl(["-H", "Host: b:8080", `http://${plain.outbound}/plain`]);
  assert.is(r.status, 200, r.body);
  const atPlain = await metricValue(plain.admin, "istio_requests_total", { reporter: "source", source_principal: "unknown" });
  assert.ok((atPlain ?? 0) >= 1, `the plaintext proxy's own principal (${atPlain})`);
  const atB = await metricValue(b.admin, "istio_requests_total", { reporter: "destination", destination_principal: "unknown", connection_security_policy: "none" });
  assert.ok((atB ?? 0) >= 1, `B's series for the plaintext request (${atB})`);
});

test.run();
