// Bootstrap tokens: what `dietmesh ca token` mints, and everything authenticateCaller must refuse
// (expired, wrong audience, unknown key, alg none, algorithm confusion, claims that disagree).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SignJWT, exportJWK, decodeJwt, decodeProtectedHeader, base64url, type JSONWebKeySet } from "jose";
import { authenticateCaller, issueBootstrapToken, loadTokenSigningKey, type TokenSigningKey } from "../../runtime/security/tokens.ts";
import { generateKeyPair, privateKeyToPem } from "../../runtime/security/keys.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const START = Date.UTC(2030, 0, 1);
const clock = createFakeClock(START);
const newKey = async (): Promise<TokenSigningKey> => loadTokenSigningKey(await privateKeyToPem((await generateKeyPair("ec-p256")).privateKey));
const key = await newKey();
const auth = (extra: Partial<Parameters<typeof authenticateCaller>[1]> = {}) => ({ localKeys: key.jwks, audience: "istio-ca", clock, ...extra });
const sa = { namespace: "default", serviceAccount: "sleep" };

async function refused(token: string, options = auth()): Promise<string> {
  try {
    await authenticateCaller(token, options);
  } catch (e) {
    return (e as { code: string }).code;
  }
  assert.unreachable("token was accepted");
  return "";
}

test("a minted token looks like a Kubernetes projected token and authenticates", async () => {
  const token = await issueBootstrapToken(key, { ...sa, clock });
  const header = decodeProtectedHeader(token);
  assert.equal([header.alg, header.kid, header.typ], ["ES256", key.kid, "JWT"]);
  const claims = decodeJwt(token);
  assert.is(claims.sub, "system:serviceaccount:default:sleep");
  assert.equal(claims.aud, ["istio-ca"]);
  assert.equal(claims["kubernetes.io"], { namespace: "default", serviceaccount: { name: "sleep" } });
  assert.is(claims.exp! - claims.iat!, 3600, "default TTL 1 h");
  assert.equal(await authenticateCaller(token, auth()), sa);
  assert.not.ok("d" in key.jwks.keys[0], "the published set has no private part");
});

test("expiry: accepted within 60 s of tolerance, refused after", async () => {
  const token = await issueBootstrapToken(key, { ...sa, clock, ttlMs: 60_000 });
  const at = (ms: number) => auth({ clock: { now: () => START + ms } });
  assert.equal(await authenticateCaller(token, at(119_000)), sa);
  assert.is(await refused(token, at(121_000)), "token-invalid");
});

test("wrong audience, unknown key, tampered payload, not a JWT: refused", async () => {
  assert.is(await refused("not-a-jwt"), "token-invalid");
  assert.is(await refused(await issueBootstrapToken(key, { ...sa, clock, audience: "other" })), "token-invalid");
  assert.is(await refused(await issueBootstrapToken(await newKey(), { ...sa, clock })), "token-invalid");
  const [h, , s] = (await issueBootstrapToken(key, { ...sa, clock })).split(".");
  const forged = base64url.encode(JSON.stringify({ ...decodeJwt(await issueBootstrapToken(key, { ...sa, clock })), sub: "system:serviceaccount:kube-system:admin" }));
  assert.is(await refused(`${h}.${forged}.${s}`), "token-invalid");
});

test("alg none and HS256 keyed with the public key (algorithm confusion): refused", async () => {
  const claims = decodeJwt(await issueBootstrapToken(key, { ...sa, clock }));
  const enc = (o: object) => base64url.encode(JSON.stringify(o));
  assert.is(await refused(`${enc({ alg: "none", kid: key.kid })}.${enc(claims)}.`), "token-invalid");
  const secret = new TextEncoder().encode(JSON.stringify(key.jwks.keys[0]));
  const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: key.kid }).sign(secret);
  assert.is(await refused(hs), "token-invalid");
});

test("missing exp, bad subject, kubernetes.io claim disagreeing with sub: refused", async () => {
  const sign = (claims: object) => new SignJWT(claims as never).setProtectedHeader({ alg: "ES256", kid: key.kid }).setIssuer("dietmesh-ca").setAudience("istio-ca").sign(key.privateKey);
  const exp = START / 1000 + 600;
  assert.is(await refused(await sign({ sub: "system:serviceaccount:default:sleep" })), "token-invalid");
  assert.is(await refused(await sign({ sub: "alice", exp })), "token-claims");
  assert.is(await refused(await sign({ sub: "system:serviceaccount:Default:sleep", exp })), "token-claims");
  const k8s = { namespace: "kube-system", serviceaccount: { name: "sleep" } };
  assert.is(await refused(await sign({ sub: "system:serviceaccount:default:sleep", exp, "kubernetes.io": k8s })), "token-claims");
});

test("Kubernetes tokens (RS256, cluster issuer) are accepted when the cluster's keys are given", async () => {
  const rsa = await generateKeyPair("rsa-2048");
  const jwk = { ...(await exportJWK(rsa.publicKey)), kid: "k8s-1", alg: "RS256" };
  const kubernetesJwks: JSONWebKeySet = { keys: [jwk] };
  const iss = "https://kubernetes.default.svc.cluster.local";
  const token = await new SignJWT({ "kubernetes.io": { namespace: "shop", serviceaccount: { name: "cart", uid: "u-1" } } })
    .setProtectedHeader({ alg: "RS256", kid: "k8s-1" }).setIssuer(iss).setSubject("system:serviceaccount:shop:cart")
    .setAudience("istio-ca").setExpirationTime(START / 1000 + 600).sign(rsa.privateKey);
  assert.equal(await authenticateCaller(token, auth({ kubernetesJwks, kubernetesIssuer: iss })), { namespace: "shop", serviceAccount: "cart" });
  assert.is(await refused(token), "token-invalid", "without the cluster's keys it is an unknown key");
  assert.is(await refused(token, auth({ kubernetesJwks, kubernetesIssuer: "https://elsewhere" })), "token-invalid");
  // a token claiming our issuer but signed with a cluster key must not pass as a local one
  const spoof = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k8s-1" }).setIssuer("dietmesh-ca").setSubject("system:serviceaccount:a:b")
    .setAudience("istio-ca").setExpirationTime(START / 1000 + 600).sign((await generateKeyPair()).privateKey);
  assert.is(await refused(spoof, auth({ kubernetesJwks })), "token-invalid");
});

test.run();
