// RequestAuthentication → one authenticator per workload, as istiod configures Envoy's jwt_authn:
// no token → ok without a principal (an AuthorizationPolicy may then require one); every token
// found where some rule reads must verify against a rule for its issuer, else 401 — a bad
// signature, expiry, a wrong audience, an issuer no rule (reading that location) names, keys that
// cannot be fetched. Verification pins the algorithms to the key types (never "none", never HMAC),
// requires `exp` and allows 60 s of clock skew. On success: principal "<iss>/<sub>", the claims as
// AuthorizationPolicy sees them, the token stripped unless forwardOriginalToken, and
// outputClaimToHeaders / outputPayloadToHeader set — after every header a rule outputs has been
// removed from the incoming request, so a client can never supply them itself.
import type { JWTPayload, JWTVerifyOptions, CryptoKey } from "jose";
import { jose } from "./jose.ts";
import type { JWTRule, RequestAuthentication } from "../../config/types.ts";
import type { Clock } from "../../lib/clock.ts";
import { DEFAULT_JWKS_TIMEOUT_MS, keySetFrom, type JwksCache, type KeySet } from "./jwks-cache.ts";
import { findTokens, locationKey, parseCookies, ruleLocations, type FoundToken, type TokenLocation } from "./jwt-locations.ts";
import { appliesTo, DEFAULT_ROOT_NAMESPACE, olderFirst, policyName, type WorkloadRef } from "./workload-scope.ts";

export interface AuthnSuccess {
  ok: true;
  /** "<iss>/<sub>" of the verified token; absent when there was none */
  principal?: string;
  /** the verified claims, with space-delimited claims (scope, permission, ...) split into lists as Envoy stores them */
  claims?: JWTPayload;
  /** remove these request headers first (lower-case names) ... */
  removeHeaders: string[];
  /** ... then set these (outputClaimToHeaders, outputPayloadToHeader) */
  setHeaders: [string, string][];
  /** query parameters that carried the token, to drop from the forwarded target (unless forwardOriginalToken) */
  removeParams: string[];
}
export type AuthnResult = AuthnSuccess | { ok: false; status: 401; message: string };

export interface RequestAuthenticator {
  /** cookies default to the request's Cookie header */
  (headers: Headers, params?: URLSearchParams, cookies?: ReadonlyMap<string, string>): Promise<AuthnResult>;
  readonly policies: readonly string[];
}

export interface RequestAuthenticationDeps {
  clock: Pick<Clock, "now">;
  jwksCache: JwksCache;
  rootNamespace?: string;
}

const CLOCK_TOLERANCE_S = 60;
const DEFAULT_SPACE_DELIMITED = ["scope", "permission"];

interface CompiledRule {
  rule: JWTRule;
  locations: Set<string>;
  keys: () => Promise<KeySet>;
  refetch: () => Promise<KeySet | undefined>;
  spaceDelimited: readonly string[];
}

class AuthnError extends Error {}

function compileRule(rule: JWTRule, cache: JwksCache): CompiledRule {
  let keys: () => Promise<KeySet>;
  let refetch: () => Promise<KeySet | undefined>;
  if (rule.jwks) {
    const inline = keySetFrom(JSON.parse(rule.jwks)); // checked at load
    keys = async () => inline;
    refetch = async () => undefined;
  } else {
    const uri = rule.jwksUri!; // the loader requires jwks or jwksUri
    const timeout = rule.timeout ?? DEFAULT_JWKS_TIMEOUT_MS;
    keys = () => cache.keys(uri, timeout).catch(() => Promise.reject(new AuthnError("Jwks remote fetch is failed")));
    refetch = () => cache.refetch(uri, timeout);
  }
  const spaceDelimited = [...new Set([...DEFAULT_SPACE_DELIMITED, ...(rule.spaceDelimitedClaims ?? [])])];
  return { rule, locations: new Set(ruleLocations(rule).map(locationKey)), keys, refetch, spaceDelimited };
}

/** jose's reasons in the words Envoy's jwt_authn uses */
function describe(e: unknown, { errors }: Awaited<ReturnType<typeof jose>>): string {
  if (e instanceof AuthnError) return e.message;
  if (e instanceof errors.JWTExpired) return "Jwt is expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return "Jwt not yet valid";
    if (e.claim === "aud") return "Audiences in Jwt are not allowed";
    if (e.claim === "iss") return "Jwt issuer is not configured";
    return `Jwt verification fails: ${e.message}`;
  }
  if (e instanceof errors.JWKSNoMatchingKey) return "Jwks doesn't have key to match kid or alg from Jwt";
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) return "Jwt verification fails: algorithm not allowed";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "Jwt verification fails";
  return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
}

async function verifyWith(token: string, set: KeySet, options: JWTVerifyOptions): Promise<JWTPayload> {
  const { errors, jwtVerify } = await jose();
  const opts = { ...options, algorithms: set.algorithms };
  try {
    return (await jwtVerify(token, set.getKey, opts)).payload;
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
    // no kid and several keys fit: try each, as Envoy does
    for await (const key of e as unknown as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, opts)).payload;
      } catch {
        /* next key */
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

async function verifyRule(token: string, r: CompiledRule, clock: Pick<Clock, "now">): Promise<JWTPayload> {
  const { errors } = await jose();
  const options: JWTVerifyOptions = {
    clockTolerance: CLOCK_TOLERANCE_S,
    currentDate: new Date(clock.now()),
    requiredClaims: ["exp"],
    ...(r.rule.issuer ? { issuer: r.rule.issuer } : {}),
    ...(r.rule.audiences?.length ? { audience: r.rule.audiences } : {}),
  };
  try {
    return await verifyWith(token, await r.keys(), options);
  } catch (e) {
    if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
    const fresh = await r.refetch(); // an unknown kid may be a rotated key
    if (!fresh) throw e;
    return verifyWith(token, fresh, options);
  }
}

/** a claim by name, "a.b" reaching into objects as Envoy's claim_to_headers does */
function claimText(payload: JWTPayload, name: string): string | undefined {
  let v: unknown = payload[name];
  if (v === undefined && name.includes(".")) {
    v = payload;
    for (const k of name.split(".")) v = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  }
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return undefined;
  const text = String(v);
  return /[\0-\x1f\x7f]/.test(text) ? undefined : text; // never let CR/LF into a header
}

function normalizeClaims(payload: JWTPayload, spaceDelimited: readonly string[]): JWTPayload {
  const out: JWTPayload = { ...payload };
  for (const name of spaceDelimited) {
    const v = out[name];
    if (typeof v === "string") out[name] = v.split(" ").filter(Boolean);
  }
  return out;
}

export function compileRequestAuthentication(
  policies: readonly RequestAuthentication[],
  workload: WorkloadRef,
  deps: RequestAuthenticationDeps,
): RequestAuthenticator {
  const applying = policies.filter((p) => appliesTo(p, workload, deps.rootNamespace ?? DEFAULT_ROOT_NAMESPACE)).sort(olderFirst);
  // istiod orders the rules by issuer
  const rules = applying.flatMap((p) => p.spec.jwtRules ?? []).sort((a, b) => ((a.issuer ?? "") < (b.issuer ?? "") ? -1 : (a.issuer ?? "") > (b.issuer ?? "") ? 1 : 0)).map((r) => compileRule(r, deps.jwksCache));
  const locations = new Map<string, TokenLocation>();
  for (const r of rules) for (const l of ruleLocations(r.rule)) locations.set(locationKey(l), l);
  const locationList = [...locations.values()];
  const outputs = [...new Set(rules.flatMap((r) => [...(r.rule.outputClaimToHeaders ?? []).map((c) => c.header), ...(r.rule.outputPayloadToHeader ? [r.rule.outputPayloadToHeader] : [])]).map((h) => h.toLowerCase()))];
  const needsCookies = locationList.some((l) => l.kind === "cookie");

  async function verifyToken(found: FoundToken): Promise<{ payload: JWTPayload; rule: CompiledRule }> {
    const lib = await jose();
    let iss: unknown;
    try {
      iss = lib.decodeJwt(found.token).iss;
    } catch (e) {
      throw new AuthnError(describe(e, lib));
    }
    const key = locationKey(found.location);
    const candidates = rules.filter((r) => r.locations.has(key) && (!r.rule.issuer || r.rule.issuer === iss));
    if (!candidates.length) throw new AuthnError("Jwt issuer is not configured");
    let first: unknown;
    for (const rule of candidates) {
      try {
        return { payload: await verifyRule(found.token, rule, deps.clock), rule };
      } catch (e) {
        first ??= e;
      }
    }
    throw new AuthnError(describe(first, lib));
  }

  const authenticate = async (headers: Headers, params?: URLSearchParams, cookies?: ReadonlyMap<string, string>): Promise<AuthnResult> => {
    const ok: AuthnSuccess = { ok: true, removeHeaders: [...outputs], setHeaders: [], removeParams: [] };
    if (!rules.length) return ok;
    let parsed: ReadonlyMap<string, string> | undefined = cookies;
    const found = findTokens(locationList, headers, params, () => (parsed ??= needsCookies ? parseCookies(headers.get("cookie")) : new Map()));
    let chosen: { payload: JWTPayload; rule: CompiledRule; token: string } | undefined;
    const verified = new Map<string, Promise<{ payload: JWTPayload; rule: CompiledRule }>>();
    for (const f of found) {
      let result;
      try {
        // the same token in two places is verified once
        if (!verified.has(f.token)) verified.set(f.token, verifyToken(f));
        result = await verified.get(f.token)!;
      } catch (e) {
        return { ok: false, status: 401, message: describe(e, await jose()) };
      }
      const principal = (p: JWTPayload) => `${p.iss}/${p.sub}`;
      if (chosen && principal(chosen.payload) !== principal(result.payload)) {
        return { ok: false, status: 401, message: "Jwt verification fails: the request carries tokens for different principals" };
      }
      chosen ??= { ...result, token: f.token };
      if (!result.rule.rule.forwardOriginalToken) {
        if (f.location.kind === "header") ok.removeHeaders.push(f.location.name);
        else if (f.location.kind === "param") ok.removeParams.push(f.location.name);
      }
    }
    if (!chosen) return ok;
    const { payload, rule } = chosen;
    if (typeof payload.iss === "string" && typeof payload.sub === "string") ok.principal = `${payload.iss}/${payload.sub}`;
    ok.claims = normalizeClaims(payload, rule.spaceDelimited);
    for (const { header, claim } of rule.rule.outputClaimToHeaders ?? []) {
      const text = claimText(payload, claim);
      if (text !== undefined) ok.setHeaders.push([header.toLowerCase(), text]);
    }
    if (rule.rule.outputPayloadToHeader) ok.setHeaders.push([rule.rule.outputPayloadToHeader.toLowerCase(), chosen.token.split(".")[1]]);
    return ok;
  };
  return Object.assign(authenticate, { policies: applying.map(policyName) });
}
