// End to end: a real sidecar process on loopback forwarding to a real upstream, driven by curl.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const echo = startEcho("reviews");
let dir = "";
let sidecar: Sidecar;

const directResponseVs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: status }
spec:
  hosts: [status.example.com]
  http:
  - match: [{ uri: { exact: /teapot } }]
    directResponse: { status: 418, body: { string: "short and stout" } }
`;

test.before(async () => {
  dir = await tempConfig({
    "reviews.yaml": serviceEntry("reviews", "reviews.default.svc.cluster.local", [{ address: echo.address, labels: { version: "v1" } }]),
    "status.yaml": directResponseVs,
  });
  sidecar = await startSidecar(dir);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

test("config is parsed off the serving process: at start and on a reload, no warning that the config worker could not start (the single executable embeds it)", async () => {
  const from = sidecar.child.lines.length;
  await platform.writeTextFile(`${dir}/later.yaml`, serviceEntry("later", "later.default.svc.cluster.local", [{ address: echo.address }]));
  const applied = (mark: number) => eventually(async () => sidecar.child.lines.slice(mark).some((l) => /config version \d+ in service/.test(l)), 10_000, "the change applied");
  await applied(from);
  const warned = sidecar.child.lines.filter((l) => l.includes("config worker could not start"));
  assert.equal(warned, []);
  const mark = sidecar.child.lines.length;
  await platform.remove(`${dir}/later.yaml`);
  await applied(mark);
});

test("forward-proxy requests (HTTP_PROXY) reach the service by its short name", async () => {
  const r = await curl(["-x", `http://${sidecar.outbound}`, "http://reviews:8080/api/v1/reviews?x=1"]);
  assert.is(r.status, 200);
  const seen = JSON.parse(r.body);
  assert.is(seen.url.endsWith("/api/v1/reviews?x=1"), true, seen.url);
  assert.is(seen.headers.host, "reviews:8080");
  assert.is(seen.headers["x-forwarded-for"], "127.0.0.1");
  assert.is(seen.headers["x-forwarded-proto"], "http");
  assert.match(seen.headers["x-request-id"], /^[0-9a-f-]{36}$/);
  assert.is(seen.headers["proxy-connection"], undefined);
});

test("Connection: host does not make the proxy drop Host (it still routes, and the upstream gets it)", async () => {
  const r = await curl(["-H", "Host: reviews:8080", "-H", "Connection: host", `http://${sidecar.outbound}/c`]);
  assert.is(r.status, 200);
  assert.is(JSON.parse(r.body).headers.host, "reviews:8080");
});

test("origin-form requests are routed by Host, with every Kubernetes name form", async () => {
  for (const host of ["reviews", "reviews.default", "reviews.default.svc", "reviews.default.svc.cluster.local"]) {
    const r = await curl(["-H", `Host: ${host}:8080`, `http://${sidecar.outbound}/x`]);
    assert.is(r.status, 200, host);
    assert.is(r.headers["x-echo"], "reviews");
  }
});

test("hop-by-hop headers are stripped both ways; a client x-request-id is kept", async () => {
  const r = await curl(["-H", "Host: reviews:8080", "-H", "Connection: keep-alive, x-secret", "-H", "x-secret: 1", "-H", "x-request-id: abc", `http://${sidecar.outbound}/`]);
  const seen = JSON.parse(r.body);
  assert.is(seen.headers["x-secret"], undefined);
  assert.is(seen.headers["x-request-id"], "abc");
  assert.is(r.headers["keep-alive"], undefined);
});

test("request bodies are forwarded", async () => {
  const body = "x".repeat(200_000);
  const file = `${dir}/body.txt`;
  await platform.writeTextFile(file, body);
  const r = await curl(["-H", "Host: reviews:8080", "--data-binary", `@${file}`, `http://${sidecar.outbound}/upload`]);
  const seen = JSON.parse(r.body);
  assert.is(seen.method, "POST");
  assert.is(seen.body.length, body.length);
});

test("an unknown host gets 404 with flag NR", async () => {
  const r = await curl(["-H", "Host: nowhere:8080", `http://${sidecar.outbound}/`]);
  assert.is(r.status, 404);
  assert.is(r.headers["x-dietmesh-response-flags"], "NR");
});

test("directResponse answers without an upstream", async () => {
  const r = await curl(["-H", "Host: status.example.com", `http://${sidecar.outbound}/teapot`]);
  assert.is(r.status, 418);
  assert.is(r.body, "short and stout");
});

test("admin: /ready, /config_dump and /clusters describe the running table", async () => {
  const ready = await curl([`http://${sidecar.admin}/ready`]);
  assert.is(ready.status, 200);
  const dump = JSON.parse((await curl([`http://${sidecar.admin}/config_dump`])).body);
  assert.is(dump.proxy.kind, "sidecar");
  assert.ok(dump.routes.outbound.some((v: { domains: string[] }) => v.domains.includes("reviews")));
  const clusters = JSON.parse((await curl([`http://${sidecar.admin}/clusters`])).body);
  const c = clusters.find((x: { name: string }) => x.name === "outbound|8080||reviews.default.svc.cluster.local");
  assert.ok(c, JSON.stringify(clusters));
  assert.is(c.endpoints[0].address, echo.address);
  assert.equal(c.endpoints[0].labels, { version: "v1" });
});

test("a bad config change is rejected and the last good config keeps serving; a good one applies", async () => {
  const version = async () => JSON.parse((await curl([`http://${sidecar.admin}/config_dump`])).body).version as number;
  const before = await version();
  await platform.writeTextFile(`${dir}/status.yaml`, directResponseVs.replace("status: 418", "status: not-a-number"));
  await sidecar.child.waitFor(/config change rejected/);
  assert.is((await curl(["-H", "Host: status.example.com", `http://${sidecar.outbound}/teapot`])).status, 418);
  assert.is(await version(), before);
  await platform.writeTextFile(`${dir}/status.yaml`, directResponseVs.replace("status: 418", "status: 202"));
  await eventually(async () => (await curl(["-H", "Host: status.example.com", `http://${sidecar.outbound}/teapot`])).status === 202, 5000, "new config");
});

test.run();
