// The SPIFFE trust bundle format (a JWK set, SPIFFE Trust Domain and Bundle spec §4): how roots are
// handed to peers and federated trust domains, and read back into a TrustBundle.
import { SecurityError } from "./errors.ts";
import { fromBase64, parseCertificate, toBase64 } from "./pem.ts";
import type { TrustBundle } from "./verify.ts";
import type { X509Certificate } from "@peculiar/x509";

export interface SpiffeBundleKey {
  kty: string;
  use: "x509-svid";
  /** exactly one certificate, base64 (not base64url) DER, as RFC 7517 §4.7 defines x5c */
  x5c: [string];
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface SpiffeBundleJson {
  keys: SpiffeBundleKey[];
  /** grows by one with every change, so a consumer can tell a newer bundle from an older one */
  spiffe_sequence?: number;
  /** seconds a consumer may wait before polling again */
  spiffe_refresh_hint?: number;
}

export interface BundleOptions {
  sequence?: number;
  refreshHintSeconds?: number;
}

/** five minutes: roots change rarely, and a rotation overlaps old and new roots for far longer */
export const DEFAULT_REFRESH_HINT_SECONDS = 300;

export async function trustBundleJson(roots: readonly X509Certificate[], options: BundleOptions = {}): Promise<SpiffeBundleJson> {
  const keys: SpiffeBundleKey[] = [];
  for (const root of roots) {
    const jwk = await crypto.subtle.exportKey("jwk", await root.publicKey.export());
    const { kty, crv, x, y, n, e } = jwk;
    if (!kty) throw new SecurityError("key-unsupported", "root public key has no JWK form");
    // only the public parameters: alg, key_ops and ext describe a WebCrypto key, not the bundle
    const params = kty === "EC" ? { crv, x, y } : { n, e };
    keys.push({ kty, use: "x509-svid", x5c: [toBase64(root.rawData)], ...params });
  }
  return {
    keys,
    spiffe_sequence: options.sequence ?? 1,
    spiffe_refresh_hint: options.refreshHintSeconds ?? DEFAULT_REFRESH_HINT_SECONDS,
  };
}

/**
 * A bundle document back to the roots it carries. Keys for other uses (jwt-svid) are skipped; an
 * x509-svid key must carry exactly one certificate, whatever else it says.
 */
export function parseTrustBundleJson(input: string | SpiffeBundleJson, trustDomain: string): TrustBundle {
  let doc: unknown;
  try {
    doc = typeof input === "string" ? JSON.parse(input) : input;
  } catch (cause) {
    throw new SecurityError("pem-invalid", "trust bundle is not JSON", { cause });
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new SecurityError("pem-invalid", 'trust bundle has no "keys" array');
  const roots: X509Certificate[] = [];
  for (const [i, key] of keys.entries()) {
    if ((key as SpiffeBundleKey)?.use !== "x509-svid") continue;
    const x5c = (key as SpiffeBundleKey).x5c;
    if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== "string") {
      throw new SecurityError("pem-invalid", `trust bundle keys[${i}]: x509-svid keys need exactly one x5c certificate`);
    }
    roots.push(parseCertificate(fromBase64(x5c[0])));
  }
  return { trustDomain, roots };
}
