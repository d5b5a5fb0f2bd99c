// compileWorkloadSecurity: the one object the inbound path uses, end to end — normalize, then
// authenticate, then authorize — with the three kinds loaded from YAML.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { createFakeClock } from "../../../runtime/lib/clock.ts";
import { compileWorkloadSecurity, RBAC_ACCESS_DENIED, type AuthzAttributes } from "../../../runtime/security/policy/index.ts";
import { authz, loadPolicies } from "./load-policies.ts";

const clock = createFakeClock(Date.UTC(2030, 0, 1));
const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1" }] };
const fetched: string[] = [];

const config = await loadPolicies(
  "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n",
  "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: web}\n  portLevelMtls:\n    8081:\n      mode: PERMISSIVE\n",
  "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: jwt\n  namespace: shop\nspec:\n  jwtRules:\n  - issuer: https://idp.example\n    jwksUri: https://idp.example/jwks\n",
  authz("require-jwt", "  selector:\n    matchLabels: {app: web}\n  rules:\n  - from:\n    - source:\n        requestPrincipals: [\"*\"]\n", { namespace: "shop" }),
  authz("deny-admin", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin*]\n", { namespace: "shop" }),
);
const security = compileWorkloadSecurity(config, { namespace: "shop", labels: { app: "web" } }, {
  clock,
  fetchJwks: async (uri) => (fetched.push(uri), jwks),
  pathNormalization: "MERGE_SLASHES",
});

/** the inbound path in miniature; returns the status the sidecar would answer with */
async function inbound(target: string, headers: Headers): Promise<number | string> {
  const n = security.normalize(target);
  if (!n.ok) return n.status;
  const params = new URL(`http://x${n.target}`).searchParams;
  const authn = await security.authenticate(headers, params);
  if (!authn.ok) return authn.status;
  const attrs: AuthzAttributes = {
    host: "web.shop.svc.cluster.local", method: "GET", path: n.path, port: 8080, headers,
    sourceIp: "10.0.0.2", remoteIp: "10.0.0.2", principal: "cluster.local/ns/shop/sa/sleep",
    requestPrincipal: authn.principal, claims: authn.claims,
  };
  const d = security.authorize(attrs);
  return d.allowed ? 200 : `403 ${RBAC_ACCESS_DENIED} (${d.reason}${d.policy ? ` ${d.policy}` : ""})`;
}

const token = (sub = "alice") =>
  new SignJWT({ iss: "https://idp.example", sub }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setExpirationTime(Math.floor(clock.now() / 1000) + 60).sign(privateKey);

test("a policy requiring requestPrincipals * denies a request without a token (403), allows one with", async () => {
  assert.is(await inbound("/hello", new Headers()), "403 RBAC: access denied (not-allowed)");
  assert.is(await inbound("/hello", new Headers({ authorization: `Bearer ${await token()}` })), 200);
  assert.is(await inbound("/hello", new Headers({ authorization: "Bearer forged" })), 401);
  assert.equal(fetched, ["https://idp.example/jwks"]);
});

test("DENY on a path holds through the workload's normalization mode", async () => {
  const auth = new Headers({ authorization: `Bearer ${await token()}` });
  for (const t of ["/admin", "/x/../admin", "//admin", "/%61dmin/x"]) assert.is(await inbound(t, auth), "403 RBAC: access denied (denied shop/deny-admin)", t);
  assert.is(await inbound("/a%00", auth), 400);
});

test("peer mode per port, and the method check", () => {
  assert.equal([security.peerMode(8080), security.peerMode(8081)], ["STRICT", "PERMISSIVE"]);
  assert.equal([security.methodOk("GET"), security.methodOk("get")], [true, false]);
});

test("without a fetchJwks a token cannot verify (401), never passes", async () => {
  const bare = compileWorkloadSecurity(config, { namespace: "shop", labels: { app: "web" } }, { clock });
  const r = await bare.authenticate(new Headers({ authorization: `Bearer ${await token()}` }));
  assert.equal(r.ok ? "ok" : [r.status, r.message], [401, "Jwks remote fetch is failed"]);
});

test.run();
