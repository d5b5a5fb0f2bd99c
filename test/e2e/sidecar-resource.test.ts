// End to end: Istio's Sidecar resource through real sidecars, driven by curl. Two workloads in
// namespace shop: "cart" takes the Sidecar selecting it (egress ./* only, REGISTRY_ONLY: a host
// outside the scope or outside the registry gets Istio's block_all 502), "pay" takes the
// namespace's (./* and web/*, ALLOW_ANY: a host outside the registry is passed through to the host
// and port it names, counted as PassthroughCluster). /config_dump shows the Sidecar in effect and
// the scope; a change to the Sidecar file changes the scope without a restart.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, run, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const cart = startEcho("cart");
const catalog = startEcho("catalog");
/** not in any registry: reachable only by passthrough */
const outside = startEcho("outside");
let dir = "";
let cartProxy: Sidecar;
let payProxy: Sidecar;

const entry = (name: string, ns: string, address: string) => {
  const [ip, port] = address.split(":");
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [${name}.${ns}.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${ip}, ports: { http: ${port} } }]
`;
};
const cartSidecar = (hosts: string, mode: string) => `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: cart, namespace: shop }
spec:
  workloadSelector: { labels: { app: cart } }
  egress: [{ hosts: [${hosts}] }]
  outboundTrafficPolicy: { mode: ${mode} }
`;
const shopSidecar = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default, namespace: shop }
spec:
  egress: [{ hosts: ["./*", "web/*"] }]
  outboundTrafficPolicy: { mode: ALLOW_ANY }
`;

const via = (proxy: Sidecar, url: string) => curl(["-x", `http://${proxy.outbound}`, url]);
const dump = async (proxy: Sidecar) => JSON.parse((await curl([`http://${proxy.admin}/config_dump`])).body);

test.before(async () => {
  dir = await tempConfig({
    "services.yaml": `${entry("cart", "shop", cart.address)}---\n${entry("catalog", "web", catalog.address)}`,
    "sidecar-cart.yaml": cartSidecar(`"./*"`, "REGISTRY_ONLY"),
    "sidecar-shop.yaml": shopSidecar,
  });
  [cartProxy, payProxy] = await Promise.all([
    startSidecar(dir, ["--namespace", "shop", "--labels", "app=cart"]),
    startSidecar(dir, ["--namespace", "shop", "--labels", "app=pay"]),
  ]);
});

test.after(async () => {
  stopAll();
  await Promise.all([cart.server.stop(true), catalog.server.stop(true), outside.server.stop(true)]);
  await platform.remove(dir);
});

test("the selected Sidecar scopes cart's outbound: its namespace's service answers, another namespace's is unknown (502)", async () => {
  const own = await via(cartProxy, "http://cart:8080/a");
  assert.is(own.status, 200);
  assert.is(own.headers["x-echo"], "cart");
  const other = await via(cartProxy, "http://catalog.web.svc.cluster.local:8080/b");
  assert.is(other.status, 502);
  assert.is(other.body, "");
  // Istio's block_all is a direct response: no response flag
  assert.is(other.headers["x-dietmesh-response-flags"], undefined);
  assert.is(catalog.requests.length, 0, "an out-of-scope host is never called");
});

test("REGISTRY_ONLY: a host in no registry gets 502 and is not called", async () => {
  const r = await via(cartProxy, `http://${outside.address}/c`);
  assert.is(r.status, 502);
  assert.is(outside.requests.length, 0);
});

test("the namespace's Sidecar (no selector) applies to pay: web/* is in scope, and ALLOW_ANY passes an unknown host through", async () => {
  const r = await via(payProxy, "http://catalog.web:8080/d");
  assert.is(r.status, 200);
  assert.is(r.headers["x-echo"], "catalog");
  const pass = await via(payProxy, `http://${outside.address}/through?x=1`);
  assert.is(pass.status, 200);
  assert.is(pass.headers["x-echo"], "outside");
  const seen = JSON.parse(pass.body);
  assert.ok(seen.url.endsWith("/through?x=1"), seen.url);
  assert.is(seen.headers.host, outside.address);
  const metrics = (await curl([`http://${payProxy.admin}/stats/prometheus`])).body;
  const line = metrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('destination_service_name="PassthroughCluster"'));
  assert.ok(line, "istio_requests_total names PassthroughCluster");
  assert.match(line!, /response_code="200"/);
});

test("/config_dump: the Sidecar in effect, its hosts, the policy and how much of the mesh is in scope", async () => {
  const c = (await dump(cartProxy)).sidecarScope;
  assert.equal(c, { sidecar: "shop/cart", hosts: ["shop/*"], outboundTrafficPolicy: "REGISTRY_ONLY", services: { inScope: 1, total: 2 }, virtualServices: { inScope: 0, total: 0 } });
  const p = (await dump(payProxy)).sidecarScope;
  assert.equal(p, { sidecar: "shop/default", hosts: ["shop/*", "web/*"], outboundTrafficPolicy: "ALLOW_ANY", services: { inScope: 2, total: 2 }, virtualServices: { inScope: 0, total: 0 } });
});

test("a changed Sidecar is applied on reload: widening cart's hosts brings catalog in", async () => {
  await platform.writeTextFile(`${dir}/sidecar-cart.yaml`, cartSidecar(`"./*", "*/catalog.web.svc.cluster.local"`, "REGISTRY_ONLY"));
  const r = await eventually(async () => {
    const res = await via(cartProxy, "http://catalog.web:8080/e");
    return res.status === 200 && res;
  }, 8000, "catalog reachable after the Sidecar change");
  assert.is(r.headers["x-echo"], "catalog");
  assert.is((await dump(cartProxy)).sidecarScope.services.inScope, 2);
});

test("no Sidecar applies (namespace web, none in istio-system): --outbound-traffic-policy is the mesh default; a bad value is a usage error", async () => {
  const web = await startSidecar(dir, ["--namespace", "web", "--outbound-traffic-policy", "REGISTRY_ONLY"]);
  assert.is((await via(web, "http://catalog:8080/f")).status, 200);
  assert.is((await via(web, `http://${outside.address}/g`)).status, 502);
  assert.equal((await dump(web)).sidecarScope, { hosts: ["*/*"], outboundTrafficPolicy: "REGISTRY_ONLY", services: { inScope: 2, total: 2 }, virtualServices: { inScope: 0, total: 0 } });
  const bad = await run("dietmesh", ["sidecar", "--config", dir, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--outbound-traffic-policy", "allow_any"]);
  assert.is(bad.code, 2);
  assert.match(bad.out, /--outbound-traffic-policy: expected ALLOW_ANY or REGISTRY_ONLY, got "allow_any"/);
});

test.run();
