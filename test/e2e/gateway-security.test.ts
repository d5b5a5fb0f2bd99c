// The gateway enforces the RequestAuthentication and AuthorizationPolicy that select it
// (istio=ingressgateway) before routing: a real gateway process, a JWT signed in the test with an
// inline JWKS, and curl — including path tricks sent with --path-as-is.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { platform } from "../../runtime/platform/index.ts";
import { curl, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const echo = startEcho("shop");
const keys = await generateKeyPair("ES256");
const jwk = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256" };
let dir = "";
let gateway: Gateway;

const token = (claims: Record<string, unknown> = {}, issuer = "https://issuer.example") =>
  new SignJWT({ group: "buyers", ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(issuer)
    .setSubject("alice")
    .setAudience("shop")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(keys.privateKey);

test.before(async () => {
  dir = await tempConfig({
    "shop.yaml": serviceEntry("shop", "shop.default.svc.cluster.local", [{ address: echo.address }]),
    "routes.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: shop-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [shop.cloud] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: shop }
spec:
  hosts: [shop.cloud]
  gateways: [shop-gateway]
  http:
  - route: [{ destination: { host: shop.default.svc.cluster.local, port: { number: 8080 } } }]
`,
    "security.yaml": `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: shop-jwt, namespace: default }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  jwtRules:
  - issuer: https://issuer.example
    audiences: [shop]
    jwks: '${JSON.stringify({ keys: [jwk] })}'
    outputClaimToHeaders: [{ header: x-group, claim: group }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-admin, namespace: default }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: private-needs-jwt, namespace: default }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/private/*"] } }] }]
`,
  });
  gateway = await startGateway(dir);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

const get = (path: string, extra: string[] = []) => curl(["--path-as-is", "-H", "Host: shop.cloud", ...extra, `http://${gateway.port80}${path}`]);

test("a valid JWT passes: the token is not forwarded, the claim header is", async () => {
  const r = await get("/private/orders", ["-H", `Authorization: Bearer ${await token()}`]);
  assert.is(r.status, 200, r.body);
  const seen = JSON.parse(r.body);
  assert.is(seen.headers.authorization, undefined);
  assert.is(seen.headers["x-group"], "buyers");
});

test("a bad token is 401; no token is fine on open paths and 403 where a request principal is required", async () => {
  assert.is((await get("/open", ["-H", `Authorization: Bearer ${await token({}, "https://evil.example")}`])).status, 401);
  assert.is((await get("/open", ["-H", "Authorization: Bearer x.y.z"])).status, 401);
  assert.is((await get("/open")).status, 200);
  const denied = await get("/private/orders");
  assert.is(denied.status, 403);
  assert.is(denied.body, "RBAC: access denied");
});

test("DENY on /admin holds against dot-segment and encoded variants; a forged x-group is dropped", async () => {
  for (const path of ["/admin", "/admin/users", "/x/../admin", "/./admin", "/x/%2e%2e/admin"]) {
    const r = await get(path);
    assert.is(r.status, 403, `${path} → ${r.status}`);
  }
  const forged = await get("/open", ["-H", "x-group: admins"]);
  assert.is(JSON.parse(forged.body).headers["x-group"], undefined);
});

test.run();
