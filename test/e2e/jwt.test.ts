// RequestAuthentication end to end, through a real sidecar process: keys from a JWKS server the
// test runs (jwksUri) and inline (jwks), tokens signed here with jose. A bad token anywhere → 401;
// no token → no request principal, which only the AuthorizationPolicy paths that require one turn
// into a 403. The app behind the sidecar reports the headers and target it got.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { platform } from "../../runtime/platform/index.ts";
import { curl, startSidecar, stopAll, tempConfig, type CurlResult, type Sidecar } from "../support/mesh.ts";
import { startJwksServer, type JwksServer } from "../support/jwks-server.ts";
import { startTargetEcho, type EchoedRequest, type TargetEcho } from "../support/target-echo.ts";

const ISSUER = "https://idp.test";
const INLINE_ISSUER = "https://inline.test";
const AUDIENCE = "dietmesh-e2e";

const rsa = await generateKeyPair("RS256", { extractable: true });
const ec = await generateKeyPair("ES256", { extractable: true });
const inline = await generateKeyPair("ES256", { extractable: true });
const stranger = await generateKeyPair("RS256", { extractable: true }); // in no key set

let app: TargetEcho;
let jwks: JwksServer;
let dir = "";
let sidecar: Sidecar;

const requestAuthentication = (jwksUri: string, inlineJwks: string) => `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: idp
  namespace: default
spec:
  selector:
    matchLabels:
      app: jwt
  jwtRules:
  - issuer: ${ISSUER}
    jwksUri: ${jwksUri}
    audiences: [${AUDIENCE}]
    outputClaimToHeaders:
    - header: x-jwt-sub
      claim: sub
    - header: x-jwt-group
      claim: group
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: inline
  namespace: default
spec:
  selector:
    matchLabels:
      app: jwt
  jwtRules:
  - issuer: ${INLINE_ISSUER}
    jwks: '${inlineJwks}'
    forwardOriginalToken: true
    outputClaimToHeaders:
    - header: x-inline-sub
      claim: sub
`;

const authorizationPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  selector:
    matchLabels:
      app: jwt
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
    to:
    - operation:
        paths: ["/secure/*"]
  - from:
    - source:
        requestPrincipals: ["${INLINE_ISSUER}/*"]
    to:
    - operation:
        paths: ["/inline-only/*"]
  - to:
    - operation:
        paths: ["/admins/*"]
    when:
    - key: request.auth.claims[group]
      values: ["admins"]
  - to:
    - operation:
        notPaths: ["/secure/*", "/inline-only/*", "/admins/*"]
`;

test.before(async () => {
  app = await startTargetEcho();
  jwks = startJwksServer([
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", use: "sig" },
  ]);
  const inlineJwks = JSON.stringify({ keys: [{ ...(await exportJWK(inline.publicKey)), kid: "inline-1" }] });
  dir = await tempConfig({ "request-authentication.yaml": requestAuthentication(jwks.uri, inlineJwks), "authorization-policy.yaml": authorizationPolicy });
  sidecar = await startSidecar(dir, ["--app", app.address, "--inbound", "127.0.0.1:0", "--labels", "app=jwt"]);
});

test.after(async () => {
  stopAll();
  await app?.server.stop(true);
  await jwks?.server.stop(true);
  if (dir) await platform.remove(dir);
});

const now = () => Math.floor(Date.now() / 1000);

interface Signing {
  key?: CryptoKey | Uint8Array;
  alg?: string;
  kid?: string;
}

/** a token the idp would issue to alice, with claims overridden (undefined removes one) */
function token(claims: JWTPayload = {}, { key = rsa.privateKey, alg = "RS256", kid = "rsa-1" }: Signing = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, sub: "alice", aud: AUDIENCE, group: "admins", iat: now(), exp: now() + 600, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(key);
}

const call = (path: string, extra: string[] = []) => curl([...extra, `http://${sidecar.inbound}${path}`]);
const bearer = (t: string) => ["-H", `Authorization: Bearer ${t}`];

function ok(r: CurlResult, what: string): EchoedRequest {
  assert.is(r.status, 200, `${what}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

function unauthorized(r: CurlResult, what: string): void {
  assert.is(r.status, 401, `${what}: ${r.status} ${r.body}`);
  assert.match(r.headers["www-authenticate"] ?? "", /^Bearer/, what);
}

test("a valid token: 200, the app gets the claims outputClaimToHeaders names and no Authorization header", async () => {
  for (const [what, t] of [["RS256", await token()], ["ES256", await token({}, { key: ec.privateKey, alg: "ES256", kid: "ec-1" })]]) {
    const seen = ok(await call("/secure/x", bearer(t)), what);
    assert.is(seen.headers["x-jwt-sub"], "alice", what);
    assert.is(seen.headers["x-jwt-group"], "admins", what);
    assert.is(seen.headers.authorization, undefined, what);
  }
  // "bearer" in any letter case is the same scheme
  ok(await call("/secure/x", ["-H", `authorization: bearer ${await token()}`]), "lower-case bearer");
});

test("claim headers cannot be forged: what the client sent is dropped, token or not", async () => {
  const none = ok(await call("/open/x", ["-H", "x-jwt-sub: admin", "-H", "x-inline-sub: admin"]), "no token");
  assert.is(none.headers["x-jwt-sub"], undefined);
  assert.is(none.headers["x-inline-sub"], undefined);
  const seen = ok(await call("/secure/x", [...bearer(await token()), "-H", "x-jwt-sub: admin"]), "with a token");
  assert.is(seen.headers["x-jwt-sub"], "alice");
});

test("an inline jwks rule with forwardOriginalToken: 200, the app gets the token and its claim header", async () => {
  const t = await token({ iss: INLINE_ISSUER, sub: "bob", aud: undefined }, { key: inline.privateKey, alg: "ES256", kid: "inline-1" });
  const seen = ok(await call("/inline-only/x", bearer(t)), "inline issuer");
  assert.is(seen.headers.authorization, `Bearer ${t}`);
  assert.is(seen.headers["x-inline-sub"], "bob");
  assert.is(seen.headers["x-jwt-sub"], undefined);
  // requestPrincipals "https://inline.test/*" names the issuer: the other issuer's token does not do
  const other = await call("/inline-only/x", bearer(await token()));
  assert.equal([other.status, other.body], [403, "RBAC: access denied"]);
});

test("no token: open paths pass, the path that requires a request principal is 403", async () => {
  ok(await call("/open/x"), "open, no token");
  for (const extra of [[], ["-H", "Authorization: Basic YWxpY2U6c2VjcmV0"]]) {
    const r = await call("/secure/x", extra);
    assert.equal([r.status, r.body], [403, "RBAC: access denied"], extra.join(" "));
  }
});

test("claims in AuthorizationPolicy: request.auth.claims[group]", async () => {
  ok(await call("/admins/x", bearer(await token())), "group admins");
  const users = await call("/admins/x", bearer(await token({ group: "users" })));
  assert.is(users.status, 403, users.body);
  assert.is((await call("/admins/x")).status, 403, "no token");
});

test("tokens that must not verify → 401, even on open paths", async () => {
  const valid = await token();
  const [head, , sig] = valid.split(".");
  const forgedPayload = base64url.encode(JSON.stringify({ iss: ISSUER, sub: "root", aud: AUDIENCE, group: "admins", exp: now() + 600 }));
  const unsigned = (header: object) => `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify({ iss: ISSUER, sub: "alice", aud: AUDIENCE, exp: now() + 600 }))}.`;
  const publicPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
  const publicJwk = new TextEncoder().encode(JSON.stringify({ ...(await exportJWK(rsa.publicKey)), kid: "rsa-1" }));
  const bad: [string, string][] = [
    ["expired beyond the 60 s skew", await token({ exp: now() - 300 })],
    ["not yet valid beyond the 60 s skew", await token({ nbf: now() + 300 })],
    ["issued for the future and expiring there", await token({ nbf: now() + 300, exp: now() + 900 })],
    ["no exp", await token({ exp: undefined })],
    ["an issuer no rule names", await token({ iss: "https://evil.test" })],
    ["the wrong audience", await token({ aud: "someone-else" })],
    ["no audience where one is required", await token({ aud: undefined })],
    ["a payload changed after signing", `${head}.${forgedPayload}.${sig}`],
    ["signed by another key under a known kid", await token({}, { key: stranger.privateKey })],
    ["alg none", unsigned({ alg: "none", typ: "JWT" })],
    ["alg none with a known kid", unsigned({ alg: "none", kid: "rsa-1" })],
    ["HS256 keyed with the public key (PEM)", await token({}, { key: publicPem, alg: "HS256" })],
    ["HS256 keyed with the public key (JWK)", await token({}, { key: publicJwk, alg: "HS256" })],
    ["an unknown kid", await token({}, { key: stranger.privateKey, kid: "rsa-2" })],
    ["the inline issuer signed with the remote key", await token({ iss: INLINE_ISSUER }, { key: ec.privateKey, alg: "ES256", kid: "inline-1" })],
    ["not a JWT", "abc.def.ghi"],
    ["one segment", "garbage"],
  ];
  for (const [what, t] of bad) {
    unauthorized(await call("/open/x", bearer(t)), what);
    unauthorized(await call("/secure/x", bearer(t)), `${what} (secure path)`);
  }
  // the skew is a tolerance, not a rejection: 30 s past exp still passes
  ok(await call("/open/x", bearer(await token({ exp: now() - 30 }))), "expired 30 s ago");
});

test("a CORS preflight is not checked by RequestAuthentication (Istio's bypass_cors_preflight); a plain OPTIONS is", async () => {
  const preflight = ["-X", "OPTIONS", "-H", "Origin: https://app.example", "-H", "Access-Control-Request-Method: POST"];
  // a token that cannot verify does not make the preflight 401: the filter does not look at it
  ok(await call("/open/x", [...preflight, ...bearer("abc.def.ghi")]), "preflight with a broken token");
  // the same OPTIONS without the preflight's headers is an ordinary request and is checked
  unauthorized(await call("/open/x", ["-X", "OPTIONS", ...bearer("abc.def.ghi")]), "plain OPTIONS with a broken token");
});

test("fromParams: access_token works, is removed from what the app gets (other parameters kept), and is checked", async () => {
  const seen = ok(await call(`/secure/x?keep=1&access_token=${await token()}&also=2`), "access_token");
  assert.is(seen.target, "/secure/x?keep=1&also=2");
  // only the token goes: the rest of the query reaches the app byte for byte
  const kept = ok(await call(`/open/x?q=a%20b+c&flag&path=/y&e=%2F&access_token=${await token()}&access_token2=z`), "access_token among others");
  assert.is(kept.target, "/open/x?q=a%20b+c&flag&path=/y&e=%2F&access_token2=z");
  assert.is(seen.headers["x-jwt-sub"], "alice");
  unauthorized(await call(`/open/x?access_token=${await token({ exp: now() - 300 })}`), "expired access_token");
  // two tokens naming different principals are refused
  unauthorized(await call(`/open/x?access_token=${await token({ sub: "mallory" })}`, bearer(await token())), "two principals");
});

test("made-up kids do not turn into a flood of JWKS fetches", async () => {
  const before = jwks.fetches();
  assert.ok(before >= 1, "the key set was fetched");
  for (let i = 0; i < 5; i++) unauthorized(await call("/open/x", bearer(await token({}, { key: stranger.privateKey, kid: `made-up-${i}` }))), `kid made-up-${i}`);
  assert.ok(jwks.fetches() - before <= 1, `${jwks.fetches() - before} fetches for 5 unknown kids`);
});

test.run();
