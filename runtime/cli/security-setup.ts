// The pieces sidecar and gateway share to enforce Istio's security policies: the JWKS fetcher
// RequestAuthentication's jwksUri uses, and the --path-normalization flag.
import type { JSONWebKeySet } from "jose";
import { PATH_NORMALIZATIONS, type FetchJwks, type PathNormalization } from "../security/policy/index.ts";
import { UsageError } from "./args.ts";

/** GET a JWK set with a deadline; anything but 200 with {"keys": [...]} is an error (the cache keeps the last good set) */
export const fetchJwks: FetchJwks = async (uri, { timeoutMs }) => {
  const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`${uri} answered ${response.status}`);
  const body = (await response.json()) as JSONWebKeySet;
  if (!body || !Array.isArray(body.keys)) throw new Error(`${uri} is not a JWK set`);
  return body;
};

export function pathNormalizationFlag(value: string | undefined): PathNormalization {
  const mode = (value ?? "BASE").toUpperCase();
  if (!(PATH_NORMALIZATIONS as readonly string[]).includes(mode)) throw new UsageError(`--path-normalization: expected ${PATH_NORMALIZATIONS.join(", ")}, got "${value}"`);
  return mode as PathNormalization;
}
