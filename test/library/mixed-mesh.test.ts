// A library workload in a mesh of sidecars (issue 16 item 4), in this test's own process: it gets
// its identity from the same CA, calls sidecar B's app over mTLS with mesh.fetch (B's app sees the
// library's SPIFFE ID in XFCC), and takes sidecar A's calls over mTLS on mesh.listen (the app
// handler sees A's principal). A Hono app with dietmeshMiddleware gets the library's policies.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Hono } from "hono";
import { platform, type Server } from "../../runtime/platform/index.ts";
import { createMesh, dietmeshMiddleware, type Mesh } from "../../runtime/library/index.ts";
import { curl, must, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const appB = startEcho("b-app");
let work: string;
let mesh: Mesh;
let listener: Server;
let a: Sidecar;
let b: Sidecar;

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web-no-admin, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]
`;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-mixed-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  b = await startSidecar(await tempConfig({}), ["--app", appB.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b"]);
  const libraryConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]), "policy.yaml": POLICY });
  mesh = await createMesh({ config: [libraryConfig], caDir: `${work}/ca`, serviceAccount: "web", labels: { app: "web", version: "v1" }, log: () => {} });
  listener = await mesh.listen({ address: "127.0.0.1:0", app: (request, caller) => new Response(JSON.stringify({ path: new URL(request.url).pathname, principal: caller.principal ?? null })) });
  a = await startSidecar(await tempConfig({ "web.yaml": serviceEntry("web", "web.default.svc.cluster.local", [{ address: `127.0.0.1:${listener.port}`, serviceAccount: "web" }]) }), ["--ca-dir", `${work}/ca`, "--service-account", "a"]);
});

test.after(async () => {
  await mesh.close();
  stopAll();
  await appB.server.stop(true);
  await platform.remove(work);
});

test("library → sidecar B over mTLS: B's app sees the library workload's SPIFFE ID", async () => {
  const r = await mesh.fetch("http://b:8080/from-library");
  assert.is(r.status, 200, await r.clone().text());
  const xfcc: string = (await r.json()).headers["x-forwarded-client-cert"];
  assert.match(xfcc, /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/web$/);
});

test("sidecar A → library over mTLS (mesh.listen): the app handler sees A's principal; the library's policy denies /admin", async () => {
  const r = await curl(["-H", "Host: web:8080", `http://${a.outbound}/hello`]);
  assert.is(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body), { path: "/hello", principal: "spiffe://cluster.local/ns/default/sa/a" });
  const denied = await curl(["-H", "Host: web:8080", `http://${a.outbound}/admin`]);
  assert.is(denied.status, 403);
});

test("a Hono app behind dietmeshMiddleware: the mesh refuses /admin before any route, serves the rest", async () => {
  const app = new Hono();
  let routed = 0;
  app.use(dietmeshMiddleware(mesh));
  app.get("*", (c) => {
    routed++;
    return c.text(`route ${c.req.path}`);
  });
  const ok = await app.fetch(new Request("http://web.default.svc.cluster.local/hello"));
  assert.is(ok.status, 200);
  assert.is(await ok.text(), "route /hello");
  const denied = await app.fetch(new Request("http://web.default.svc.cluster.local/admin"));
  assert.is(denied.status, 403);
  assert.is(routed, 1, "the route never ran for the denied request");
  assert.match(await mesh.metrics(), /istio_requests_total\{reporter="destination"[^}]*response_code="403"/);
});

test.run();
