// End to end, Istio's peer metadata exchange over the mTLS hop: sidecar A (app=a, version=v1,
// service account a) calls B's inbound side; B's istio_requests_total (reporter="destination")
// names the caller — source_principal from A's certificate, source_workload, source_app and
// source_version from A's metadata header — and B answers with its own, so A's source-side metrics
// name the workload that answered (destination_workload, _app, _version); B names the service it
// serves (destination_service) from its registry. The header never reaches an app or a client, nor
// does one a client forged.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { PEER_METADATA_HEADER } from "../../runtime/telemetry/peer-metadata.ts";
import { curl, must, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const app = startEcho("b-app");
const outside = startEcho("outside");
let a: Sidecar;
let b: Sidecar;
let work: string;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-peer-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  // B's registry knows the service it backs by its endpoint's labels (its own: app=b)
  const bConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: "127.0.0.1:9", labels: { app: "b" } }]) });
  b = await startSidecar(bConfig, ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b,version=v2"]);
  const aConfig = await tempConfig({
    "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]),
    "outside.yaml": serviceEntry("outside", "outside.example", [{ address: outside.address }]),
    // an external service (Istio's default location) is outside the mesh even where its endpoint names a service account
    "external.yaml": serviceEntry("external", "external.example", [{ address: outside.address, serviceAccount: "ext" }]).replace("location: MESH_INTERNAL", "location: MESH_EXTERNAL"),
  });
  a = await startSidecar(aConfig, ["--ca-dir", `${work}/ca`, "--service-account", "a", "--labels", "app=a,version=v1", "--cluster-id", "east"]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await outside.server.stop(true);
  await platform.remove(work);
});

test("B's destination-side metrics name the caller: principal from its certificate, workload, app and version from its metadata", async () => {
  const forged = "workload=admin;namespace=kube-system;app=admin";
  const r = await curl(["-H", "Host: b:8080", "-H", `${PEER_METADATA_HEADER}: ${forged}`, `http://${a.outbound}/who`]);
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).headers[PEER_METADATA_HEADER], undefined, "the app never sees the header");
  const metrics = (await curl([`http://${b.admin}/stats/prometheus`])).body;
  const line = metrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="destination"'));
  assert.ok(line, metrics);
  for (const label of ['source_principal="spiffe://cluster.local/ns/default/sa/a"', 'source_workload="a-v1"', 'source_app="a"', 'source_version="v1"', 'source_workload_namespace="default"', 'destination_app="b"', 'connection_security_policy="mutual_tls"', 'source_cluster="east"', 'destination_cluster="Kubernetes"']) {
    assert.ok(line!.includes(label), `${label} in ${line}`);
  }
  assert.not.ok(line!.includes("admin"), "the client's forged metadata was not taken");
  for (const label of ['destination_service="b.default.svc.cluster.local"', 'destination_service_name="b"', 'destination_service_namespace="default"', 'destination_workload="b-v2"']) {
    assert.ok(line!.includes(label), `${label} in ${line}`);
  }
  assert.match(metrics, /^istio_build\{component="proxy",tag="dietmesh-\d+\.\d+\.\d+"\} 1$/m, "istio_build names the proxy's version");
});

test("A's source-side metrics name the workload that answered, from B's metadata; the client never sees it", async () => {
  const r = await curl(["-H", "Host: b:8080", `http://${a.outbound}/answer`]);
  assert.is(r.status, 200, r.body);
  assert.is(r.headers[PEER_METADATA_HEADER], undefined, "B's answer metadata stops at A");
  const metrics = (await curl([`http://${a.admin}/stats/prometheus`])).body;
  const line = metrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="source"') && l.includes('destination_service="b.default.svc.cluster.local"'));
  assert.ok(line, metrics);
  for (const label of ['source_workload="a-v1"', 'destination_workload="b-v2"', 'destination_app="b"', 'destination_version="v2"', 'destination_principal="spiffe://cluster.local/ns/default/sa/b"', 'source_cluster="east"', 'destination_cluster="Kubernetes"']) {
    assert.ok(line!.includes(label), `${label} in ${line}`);
  }
});

test("outside the mesh: no metadata header is sent, and a client-forged one is removed", async () => {
  const r = await curl(["-H", "Host: outside.example:8080", "-H", `${PEER_METADATA_HEADER}: workload=forged`, `http://${a.outbound}/`]);
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).headers[PEER_METADATA_HEADER], undefined);
});

test("a MESH_EXTERNAL service whose endpoint names a service account: plaintext (no auto mTLS) and no metadata header", async () => {
  const r = await curl(["-H", "Host: external.example:8080", `http://${a.outbound}/`]);
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).headers[PEER_METADATA_HEADER], undefined);
});

test.run();
