// `dietmesh proxy-config` and `proxy-status` against running proxies, as an operator uses
// istioctl's: a sidecar with a workload certificate and a routed service, read through its admin
// listener as tables and as JSON; proxy-status lists two proxies and says which one is unreachable.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { must, run, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";

const app = startEcho("pc");
let sidecar: Sidecar;
let gateway: Gateway;
let work: string;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-pc-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  const config = await tempConfig({ "reviews.yaml": serviceEntry("reviews", "reviews.default.svc.cluster.local", [{ address: app.address, labels: { version: "v1" } }]) });
  sidecar = await startSidecar(config, ["--ca-dir", `${work}/ca`, "--service-account", "web"]);
  gateway = await startGateway(await tempConfig({ "g.yaml": `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: g }\nspec:\n  selector: { istio: ingressgateway }\n  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]\n` }));
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  await platform.remove(work);
});

const pc = async (...args: string[]) => {
  const r = await run("dietmesh", ["proxy-config", ...args, "--admin", sidecar.admin]);
  assert.is(r.code, 0, r.out);
  return r.out.split("\n");
};

test("clusters and endpoints as istioctl prints them", async () => {
  const clusters = await pc("clusters");
  assert.match(clusters[0], /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+ENDPOINTS\s+LOAD BALANCER$/);
  assert.ok(clusters.some((l) => /^reviews\.default\.svc\.cluster\.local\s+8080\s+-\s+outbound\s+1\s+LEAST_REQUEST$/.test(l)), clusters.join("\n"));
  const endpoints = await pc("endpoints");
  assert.ok(endpoints.some((l) => l.startsWith(app.address) && /HEALTHY\s+OK\s+outbound\|8080\|\|reviews/.test(l)), endpoints.join("\n"));
});

test("routes, listeners and the workload certificate", async () => {
  const routes = await pc("routes");
  assert.ok(routes.some((l) => /^outbound\s+reviews\.default\.svc\.cluster\.local\s+\S*reviews\S*\s+default\|8080\|reviews/.test(l)), routes.join("\n"));
  const listeners = await pc("listeners");
  assert.ok(listeners.some((l) => l.includes(sidecar.outbound)), listeners.join("\n"));
  const secret = await pc("secret");
  assert.match(secret[1], /^default\s+Cert Chain\s+ACTIVE\s+true\s+\S+\s+\d{4}-\d\d-\d\dT/);
});

test("-o json gives the admin's data", async () => {
  const r = await run("dietmesh", ["proxy-config", "clusters", "-o", "json", "--admin", sidecar.admin]);
  const clusters = JSON.parse(r.out);
  assert.ok(clusters.some((c: { service: string; endpoints: unknown[] }) => c.service === "reviews.default.svc.cluster.local" && c.endpoints.length === 1));
});

test("proxy-status: one line per proxy, config version and readiness; an unreachable one says so and exits 1", async () => {
  const ok = await run("dietmesh", ["proxy-status", "--admin", sidecar.admin, "--admin", gateway.admin]);
  assert.is(ok.code, 0, ok.out);
  const lines = ok.out.split("\n");
  assert.match(lines[0], /^ADMIN\s+PROXY\s+CONFIG VERSION\s+CONFIG BUILT\s+STATUS\s+CERT NOT AFTER$/);
  assert.ok(lines.some((l) => l.startsWith(sidecar.admin) && /sidecar default\/web\s+\d+\s+\S+Z\s+SYNCED\s+\d{4}-/.test(l)), ok.out);
  assert.ok(lines.some((l) => l.startsWith(gateway.admin) && /gateway default\/\S+\s+\d+\s+\S+Z\s+SYNCED\s+-$/.test(l)), ok.out);
  const dead = `127.0.0.1:${await closedPort()}`;
  const bad = await run("dietmesh", ["proxy-status", "--admin", dead]);
  assert.is(bad.code, 1);
  assert.match(bad.out, /UNREACHABLE/);
});

test.run();
