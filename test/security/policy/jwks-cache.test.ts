// The JWKS cache on its own: one fetch for many concurrent users, refresh and cooldown on the
// injected clock, and key sets reduced to public asymmetric keys with their algorithms pinned.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import { createFakeClock } from "../../../runtime/lib/clock.ts";
import { createJwksCache, keySetFrom } from "../../../runtime/security/policy/jwks-cache.ts";

const rsaPair = await generateKeyPair("RS256", { extractable: true });
const rsaPublic = { ...(await exportJWK(rsaPair.publicKey)), kid: "r" };
const rsaPrivate = { ...(await exportJWK(rsaPair.privateKey)), kid: "r" };
const ecPublic = { ...(await exportJWK((await generateKeyPair("ES384", { extractable: true })).publicKey)), kid: "e" };

test("concurrent first uses share one fetch", async () => {
  const clock = createFakeClock(0);
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const cache = createJwksCache({ clock, fetchJwks: async () => { calls++; await gate; return { keys: [rsaPublic] }; } });
  const all = Promise.all([cache.keys("u"), cache.keys("u"), cache.refetch("u")]);
  release();
  const [a, b, c] = await all;
  assert.is(calls, 1);
  assert.ok(a === b && b === c);
  assert.equal([...a.kids], ["r"]);
});

test("refresh after refreshMs; refetch only after cooldownMs; the timeout reaches fetchJwks", async () => {
  const clock = createFakeClock(0);
  const timeouts: number[] = [];
  const cache = createJwksCache({ clock, refreshMs: 1000, cooldownMs: 100, fetchJwks: async (_uri, { timeoutMs }) => { timeouts.push(timeoutMs); return { keys: [rsaPublic] }; } });
  await cache.keys("u", 2500);
  assert.is(await cache.refetch("u"), undefined, "within the cooldown");
  clock.advance(100);
  assert.ok(await cache.refetch("u"));
  clock.advance(999);
  await cache.keys("u");
  assert.is(timeouts.length, 2, "not stale yet: 999 ms since the refetch");
  clock.advance(1);
  await cache.keys("u");
  assert.equal(timeouts, [2500, 5000, 5000]);
});

test("key sets keep only the public part of asymmetric keys and pin algorithms to their types", () => {
  const set = keySetFrom({ keys: [rsaPrivate, ecPublic, { kty: "oct", k: "c2VjcmV0", kid: "h" }, { kty: "EC", crv: "P-256", x: "x", y: "y", alg: "RS256", kid: "mismatch" }] } as JSONWebKeySet);
  assert.equal([...set.kids], ["r", "e"]);
  assert.equal(set.algorithms.sort(), ["ES384", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"]);
  assert.not.ok(set.algorithms.some((a) => a.startsWith("HS") || a === "none"));
  const pinned = keySetFrom({ keys: [{ ...rsaPublic, alg: "PS256" }] });
  assert.equal(pinned.algorithms, ["PS256"]);
  assert.equal(keySetFrom({ keys: "nope" } as unknown as JSONWebKeySet).algorithms, []);
});

test.run();
