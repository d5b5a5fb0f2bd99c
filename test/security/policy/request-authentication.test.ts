// RequestAuthentication: tokens jose signs here, keys served by a fake JWKS endpoint, time on a
// fake clock. A valid token yields a principal; everything Envoy's jwt_authn refuses is a 401;
// no token is no principal.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JSONWebKeySet, type JWK, type JWTPayload } from "jose";
import { createFakeClock } from "../../../runtime/lib/clock.ts";
import { createJwksCache } from "../../../runtime/security/policy/jwks-cache.ts";
import { compileRequestAuthentication, type AuthnResult, type AuthnSuccess } from "../../../runtime/security/policy/request-authentication.ts";
import { loadPolicies } from "./load-policies.ts";

const START = Date.UTC(2030, 0, 1);
const ISS = "https://idp.example";
const JWKS_URI = "https://idp.example/jwks";
const workload = { namespace: "shop", labels: { app: "web" } };

interface Signer {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  alg: string;
}
async function signer(alg: "RS256" | "ES256", kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid }, alg };
}
const rsa = await signer("RS256", "rsa-1");
const ec = await signer("ES256", "ec-1");
const stranger = await signer("RS256", "rsa-1"); // same kid, different key

function ra(rules: string, { name = "jwt", namespace = "shop", selector = "{app: web}" } = {}) {
  return `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    matchLabels: ${selector}\n  jwtRules:\n${rules}`;
}
const RULE = `  - issuer: ${ISS}\n    jwksUri: ${JWKS_URI}\n    audiences: [web]\n`;

/** a fresh fake clock, JWKS endpoint and authenticator for the given YAML */
async function setup(docs: string[], keys: JWK[] = [rsa.jwk, ec.jwk]) {
  const clock = createFakeClock(START);
  const served: Record<string, JSONWebKeySet> = { [JWKS_URI]: { keys } };
  const calls: string[] = [];
  let failing = false;
  const jwksCache = createJwksCache({
    clock,
    fetchJwks: async (uri) => {
      calls.push(uri);
      if (failing || !served[uri]) throw new Error("connection refused");
      return structuredClone(served[uri]);
    },
  });
  const config = await loadPolicies(...docs);
  const authenticate = compileRequestAuthentication(config.requestAuthentications, workload, { clock, jwksCache });
  const nowS = () => Math.floor(clock.now() / 1000);
  async function token(claims: JWTPayload = {}, opts: { key?: Signer; kid?: string | null; exp?: number | null } = {}) {
    const key = opts.key ?? rsa;
    const header = { alg: key.alg, ...(opts.kid === null ? {} : { kid: opts.kid ?? key.jwk.kid }) };
    const jwt = new SignJWT({ iss: ISS, sub: "alice", aud: "web", iat: nowS(), ...claims }).setProtectedHeader(header);
    if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? nowS() + 600);
    return jwt.sign(key.privateKey);
  }
  const bearer = (t: string) => new Headers({ authorization: `Bearer ${t}` });
  return {
    clock, calls, served, authenticate, token, bearer,
    fail: (on: boolean) => void (failing = on),
    run: (headers: Headers, params?: URLSearchParams) => authenticate(headers, params),
  };
}

function ok(r: AuthnResult, why = ""): AuthnSuccess {
  if (!r.ok) assert.unreachable(`refused: ${r.message}${why && ` (${why})`}`);
  return r as AuthnSuccess;
}
function refused(r: AuthnResult, message: RegExp) {
  if (r.ok) return assert.unreachable(`accepted, principal ${r.principal}`);
  assert.is(r.status, 401);
  assert.match(r.message, message);
}

test("a valid token: principal iss/sub, claims, the token removed before forwarding", async () => {
  const s = await setup([ra(RULE)]);
  const r = ok(await s.run(s.bearer(await s.token({ groups: ["dev"] }))));
  assert.is(r.principal, `${ISS}/alice`);
  assert.equal([r.claims!.sub, r.claims!.groups], ["alice", ["dev"]]);
  assert.equal(r.removeHeaders, ["authorization"]);
  assert.equal(s.calls, [JWKS_URI]);
  ok(await s.run(s.bearer(await s.token({}, { key: ec }))));
  assert.equal(s.calls, [JWKS_URI], "keys are cached");
});

test("no token, or an Authorization that is not Bearer: ok without a principal", async () => {
  const s = await setup([ra(RULE)]);
  assert.equal(await s.run(new Headers()), { ok: true, removeHeaders: [], setHeaders: [], removeParams: [] });
  const basic = ok(await s.run(new Headers({ authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" })));
  assert.is(basic.principal, undefined);
  assert.equal(s.calls, [], "nothing to verify, nothing fetched");
  ok(await s.run(new Headers({ authorization: `bearer ${await s.token()}` })), "the scheme is case-insensitive");
});

test("expired: refused after exp + 60 s, accepted within the tolerance; exp is required", async () => {
  const s = await setup([ra(RULE)]);
  const t = await s.token({}, { exp: Math.floor(START / 1000) + 10 });
  s.clock.advance(10_000 + 59_000);
  ok(await s.run(s.bearer(t)));
  s.clock.advance(2_000);
  refused(await s.run(s.bearer(t)), /^Jwt is expired$/);
  refused(await s.run(s.bearer(await s.token({}, { exp: null }))), /exp/);
});

test("not yet valid (nbf beyond the tolerance) → 401", async () => {
  const s = await setup([ra(RULE)]);
  const nbf = Math.floor(START / 1000) + 3600;
  refused(await s.run(s.bearer(await s.token({ nbf }, { exp: nbf + 600 }))), /Jwt not yet valid/);
  ok(await s.run(s.bearer(await s.token({ nbf: Math.floor(START / 1000) + 30 }))), "30 s early is within the skew allowed");
});

test("an issuer no rule names → 401 (a present token must verify), as does a wrong audience", async () => {
  const s = await setup([ra(RULE)]);
  refused(await s.run(s.bearer(await s.token({ iss: "https://evil.example" }))), /Jwt issuer is not configured/);
  refused(await s.run(s.bearer(await s.token({ aud: "billing" }))), /Audiences in Jwt are not allowed/);
  ok(await s.run(s.bearer(await s.token({ aud: ["billing", "web"] }))), "one of the audiences is enough");
  const anyAud = await setup([ra(`  - issuer: ${ISS}\n    jwksUri: ${JWKS_URI}\n`)]);
  ok(await anyAud.run(anyAud.bearer(await anyAud.token({ aud: "billing" }))), "no audiences configured: not checked");
});

test("a bad signature, alg none, HS256 keyed with the public key, garbage → 401", async () => {
  const s = await setup([ra(RULE)]);
  refused(await s.run(s.bearer(await s.token({}, { key: stranger }))), /Jwt verification fails/);
  const good = await s.token();
  const [h, p] = good.split(".");
  refused(await s.run(s.bearer(`${h}.${base64url.encode(JSON.stringify({ iss: ISS, sub: "mallory", aud: "web", exp: 2e9 }))}.${good.split(".")[2]}`)), /Jwt verification fails/);
  const none = `${base64url.encode(JSON.stringify({ alg: "none", kid: "rsa-1" }))}.${p}.`;
  refused(await s.run(s.bearer(none)), /Jwt verification fails|Jwt is not in the form/);
  for (const secret of [await exportSPKI(rsa.publicKey), JSON.stringify(rsa.jwk)]) {
    const hs = await new SignJWT({ iss: ISS, sub: "mallory", aud: "web" }).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).setExpirationTime("10m").sign(new TextEncoder().encode(secret));
    refused(await s.run(s.bearer(hs)), /algorithm not allowed|Jwt verification fails/);
  }
  refused(await s.run(s.bearer("not.a.jwt")), /Jwt is not in the form/);
  refused(await s.run(s.bearer(`${good}x`)), /Jwt verification fails|Jwt is not in the form/);
});

test("an unknown kid refetches the keys once per cooldown: a rotated key is found, a made-up one is refused", async () => {
  const s = await setup([ra(RULE)], [rsa.jwk]);
  ok(await s.run(s.bearer(await s.token())));
  const rotated = await signer("RS256", "rsa-2");
  s.served[JWKS_URI] = { keys: [rsa.jwk, rotated.jwk] };
  const next = await s.token({}, { key: rotated });
  refused(await s.run(s.bearer(next)), /Jwks doesn't have key/);
  assert.is(s.calls.length, 1, "the keys were fetched a moment ago: the cooldown holds");
  s.clock.advance(30_000);
  ok(await s.run(s.bearer(next)), "after the cooldown the unknown kid refetches and finds the new key");
  assert.is(s.calls.length, 2);
  const madeUp = await s.token({}, { key: await signer("RS256", "made-up") });
  s.clock.advance(30_000);
  refused(await s.run(s.bearer(madeUp)), /Jwks doesn't have key to match kid/);
  assert.is(s.calls.length, 3, "one refetch for the unknown kid");
  refused(await s.run(s.bearer(madeUp)), /Jwks doesn't have key/);
  refused(await s.run(s.bearer(madeUp)), /Jwks doesn't have key/);
  assert.is(s.calls.length, 3, "no more fetches within the cooldown");
  s.clock.advance(30_000);
  refused(await s.run(s.bearer(madeUp)), /Jwks doesn't have key/);
  assert.is(s.calls.length, 4);
});

test("keys older than 5 minutes are refetched on next use; a failed fetch keeps the old keys; none at all → 401", async () => {
  const s = await setup([ra(RULE)], [rsa.jwk]);
  ok(await s.run(s.bearer(await s.token())));
  s.clock.advance(4 * 60_000);
  ok(await s.run(s.bearer(await s.token())));
  assert.is(s.calls.length, 1);
  s.clock.advance(60_000);
  s.fail(true);
  ok(await s.run(s.bearer(await s.token())), "stale keys still serve while the endpoint is down");
  assert.is(s.calls.length, 2);

  const down = await setup([ra(RULE)]);
  down.fail(true);
  refused(await down.run(down.bearer(await down.token())), /Jwks remote fetch is failed/);
  refused(await down.run(down.bearer(await down.token())), /Jwks remote fetch is failed/);
  assert.is(down.calls.length, 1, "a dead endpoint is not retried within the cooldown");
  down.fail(false);
  down.clock.advance(30_000);
  ok(await down.run(down.bearer(await down.token())));
});

test("no kid and several keys: each fitting key is tried", async () => {
  const other = await signer("RS256", "rsa-0");
  const s = await setup([ra(RULE)], [other.jwk, rsa.jwk]);
  ok(await s.run(s.bearer(await s.token({}, { kid: null }))));
  refused(await s.run(s.bearer(await s.token({}, { kid: null, key: stranger }))), /Jwt verification fails/);
});

test("fromHeaders with a prefix, fromParams, fromCookies; a token elsewhere is not looked at", async () => {
  const rule = `  - issuer: ${ISS}\n    jwksUri: ${JWKS_URI}\n    fromHeaders:\n    - name: X-Jwt\n      prefix: "Token "\n    fromParams: [jwt]\n    fromCookies: [session]\n`;
  const s = await setup([ra(rule)]);
  const t = await s.token();
  const viaHeader = ok(await s.run(new Headers({ "x-jwt": `Token ${t}` })));
  assert.equal([viaHeader.principal, viaHeader.removeHeaders], [`${ISS}/alice`, ["x-jwt"]]);
  const viaParam = ok(await s.run(new Headers(), new URLSearchParams({ jwt: t, other: "1" })));
  assert.equal([viaParam.principal, viaParam.removeParams], [`${ISS}/alice`, ["jwt"]]);
  const viaCookie = ok(await s.run(new Headers({ cookie: `theme=dark; session=${t}` })));
  assert.is(viaCookie.principal, `${ISS}/alice`);
  const viaMap = ok(await s.authenticate(new Headers(), undefined, new Map([["session", t]])));
  assert.is(viaMap.principal, `${ISS}/alice`);
  const elsewhere = ok(await s.run(s.bearer("garbage"), new URLSearchParams({ access_token: "garbage" })));
  assert.is(elsewhere.principal, undefined, "Authorization and access_token are not this rule's locations");
  refused(await s.run(new Headers({ "x-jwt": "Token garbage" })), /Jwt is not in the form/);
});

test("the default locations: Authorization: Bearer and access_token", async () => {
  const s = await setup([ra(RULE)]);
  const r = ok(await s.run(new Headers(), new URLSearchParams({ access_token: await s.token() })));
  assert.equal([r.principal, r.removeParams], [`${ISS}/alice`, ["access_token"]]);
});

test("every token present must verify: one good and one bad → 401; two principals → 401", async () => {
  const s = await setup([ra(RULE)]);
  const good = await s.token();
  refused(await s.run(s.bearer(good), new URLSearchParams({ access_token: "bad.token.here" })), /Jwt/);
  refused(await s.run(s.bearer(good), new URLSearchParams({ access_token: await s.token({ sub: "bob" }) })), /different principals/);
  const same = ok(await s.run(s.bearer(good), new URLSearchParams({ access_token: good })));
  assert.equal([same.removeHeaders, same.removeParams], [["authorization"], ["access_token"]]);
});

test("forwardOriginalToken keeps the token; outputClaimToHeaders and outputPayloadToHeader set headers a client cannot forge", async () => {
  const rule = `  - issuer: ${ISS}\n    jwksUri: ${JWKS_URI}\n    forwardOriginalToken: true\n    outputPayloadToHeader: x-jwt-payload\n    outputClaimToHeaders:\n    - header: X-User\n      claim: sub\n    - header: x-team\n      claim: org.team\n    - header: x-level\n      claim: level\n    - header: x-evil\n      claim: evil\n`;
  const s = await setup([ra(rule)]);
  const t = await s.token({ org: { team: "payments" }, level: 3, evil: "a\r\nx-admin: true" });
  const r = ok(await s.run(s.bearer(t)));
  assert.equal(r.removeHeaders, ["x-user", "x-team", "x-level", "x-evil", "x-jwt-payload"], "always removed first, token or not");
  assert.equal(r.setHeaders, [["x-user", "alice"], ["x-team", "payments"], ["x-level", "3"], ["x-jwt-payload", t.split(".")[1]]], "no CR/LF ever reaches a header");
  const none = ok(await s.run(new Headers({ "x-user": "admin" })));
  assert.equal([none.removeHeaders.includes("x-user"), none.setHeaders], [true, []]);
});

test("scope and permission (and spaceDelimitedClaims) become lists in the claims policies see", async () => {
  const s = await setup([ra(`  - issuer: ${ISS}\n    jwksUri: ${JWKS_URI}\n    spaceDelimitedClaims: [roles]\n`)]);
  const r = ok(await s.run(s.bearer(await s.token({ scope: "read write", roles: "a  b", other: "x y" }))));
  assert.equal([r.claims!.scope, r.claims!.roles, r.claims!.other], [["read", "write"], ["a", "b"], "x y"]);
});

test("inline jwks, several rules picked by issuer, and policies that do not reach the workload", async () => {
  const inline = `  - issuer: https://other.example\n    jwks: '${JSON.stringify({ keys: [ec.jwk] })}'\n`;
  const s = await setup([ra(RULE + inline)]);
  const r = ok(await s.run(s.bearer(await s.token({ iss: "https://other.example", aud: "x" }, { key: ec }))));
  assert.is(r.principal, "https://other.example/alice");
  refused(await s.run(s.bearer(await s.token({ iss: "https://other.example" }, { key: rsa }))), /Jwks doesn't have key|Jwt verification fails/);
  const elsewhere = await setup([ra(RULE, { selector: "{app: api}" }), ra(RULE, { name: "other-ns", namespace: "billing", selector: "{app: web}" })]);
  assert.is(ok(await elsewhere.run(elsewhere.bearer("garbage"))).principal, undefined, "no rule applies: tokens are not looked at");
  assert.equal(elsewhere.authenticate.policies, []);
  const mesh = await setup([ra(RULE, { namespace: "istio-system", selector: "{app: web}" })]);
  assert.equal(mesh.authenticate.policies, ["istio-system/jwt"]);
});

test.run();
