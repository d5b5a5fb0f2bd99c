// JSON Web Key Sets for RequestAuthentication, by jwksUri: fetched on first use, refetched when
// older than `refreshMs` (on the next use; a failed refresh keeps the old keys), and refetched on
// a token whose kid no key has, at most once per `cooldownMs` so a flood of made-up kids cannot
// turn into a flood of fetches. Concurrent users share one fetch. Fetching itself is injected
// (`fetchJwks`), and time comes from the injected clock, so tests need no network and no sleeps.
// Keys are reduced to their public part and each set carries the algorithms its key types allow:
// never "none", never an HMAC algorithm (so a public key cannot be used as an HMAC secret).
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from "jose";
import { jose } from "./jose.ts";
import type { Clock } from "../../lib/clock.ts";

export type FetchJwks = (uri: string, options: { timeoutMs: number }) => Promise<JSONWebKeySet>;

/** keys ready for jwtVerify */
export interface KeySet {
  getKey: JWTVerifyGetKey;
  /** the asymmetric JWS algorithms the keys allow, to pin jwtVerify's `algorithms` */
  algorithms: string[];
  kids: ReadonlySet<string>;
}

export interface JwksCacheOptions {
  clock: Pick<Clock, "now">;
  fetchJwks: FetchJwks;
  /** Envoy's remote JWKS cache_duration as istiod sets it: 5 minutes */
  refreshMs?: number;
  cooldownMs?: number;
}

export interface JwksCache {
  /** the current keys for uri, fetching first if there are none or they are stale */
  keys(uri: string, timeoutMs?: number): Promise<KeySet>;
  /** refetch after an unknown kid; undefined when the cooldown forbids it (or it failed) */
  refetch(uri: string, timeoutMs?: number): Promise<KeySet | undefined>;
}

export const DEFAULT_JWKS_REFRESH_MS = 5 * 60_000;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000; // istiod's default JWTRule.timeout

const ALGORITHMS: Record<string, string[]> = {
  RSA: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  "EC:P-256": ["ES256"],
  "EC:P-384": ["ES384"],
  "EC:P-521": ["ES512"],
  "OKP:Ed25519": ["EdDSA", "Ed25519"],
};
const PUBLIC_MEMBERS = ["kty", "kid", "alg", "use", "key_ops", "crv", "n", "e", "x", "y"];

/** a set of public keys (private members dropped, "oct" and unknown key types left out) with its algorithms */
export function keySetFrom(jwks: JSONWebKeySet): KeySet {
  const keys: JWK[] = [];
  const algorithms = new Set<string>();
  for (const raw of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    const allowed = ALGORITHMS[raw.kty === "RSA" ? "RSA" : `${raw.kty}:${raw.crv}`];
    if (!allowed) continue;
    if (raw.alg !== undefined && !allowed.includes(raw.alg)) continue; // a key's own alg must fit its type
    for (const a of raw.alg ? [raw.alg] : allowed) algorithms.add(a);
    keys.push(Object.fromEntries(PUBLIC_MEMBERS.filter((m) => m in raw).map((m) => [m, raw[m as keyof JWK]])) as JWK);
  }
  let local: JWTVerifyGetKey | undefined;
  return {
    // jose is loaded with the config that has a RequestAuthentication (jose.ts); built on first use
    getKey: async (header, token) => (local ??= (await jose()).createLocalJWKSet({ keys }))(header, token),
    algorithms: [...algorithms],
    kids: new Set(keys.map((k) => k.kid).filter((k): k is string => typeof k === "string")),
  };
}

interface Entry {
  set?: KeySet;
  fetchedAt: number;
  /** last attempt, successful or not: the cooldown counts from here */
  triedAt: number;
  inflight?: Promise<KeySet | undefined>;
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const refreshMs = options.refreshMs ?? DEFAULT_JWKS_REFRESH_MS;
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  const entries = new Map<string, Entry>();
  const entry = (uri: string) => entries.get(uri) ?? entries.set(uri, { fetchedAt: -Infinity, triedAt: -Infinity }).get(uri)!;

  function fetchNow(uri: string, e: Entry, timeoutMs: number): Promise<KeySet | undefined> {
    if (e.inflight) return e.inflight;
    e.triedAt = options.clock.now();
    e.inflight = options
      .fetchJwks(uri, { timeoutMs })
      .then((jwks) => {
        e.set = keySetFrom(jwks);
        e.fetchedAt = options.clock.now();
        return e.set;
      })
      .catch(() => undefined)
      .finally(() => {
        e.inflight = undefined;
      });
    return e.inflight;
  }

  return {
    async keys(uri, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS) {
      const e = entry(uri);
      const now = options.clock.now();
      const stale = now - e.fetchedAt >= refreshMs;
      // a failed fetch is not retried before the cooldown: a dead JWKS server must not be hammered
      if ((stale && now - e.triedAt >= cooldownMs) || e.inflight) await fetchNow(uri, e, timeoutMs);
      if (!e.set) throw new Error("Jwks remote fetch is failed");
      return e.set;
    },
    async refetch(uri, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS) {
      const e = entry(uri);
      if (!e.inflight && options.clock.now() - e.triedAt < cooldownMs) return undefined;
      return fetchNow(uri, e, timeoutMs);
    },
  };
}
