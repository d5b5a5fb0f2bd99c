// Bootstrap tokens: how a workload proves which service account it runs as before the CA signs
// for it. Outside Kubernetes the CA mints its own tokens, shaped like Kubernetes projected
// service-account tokens; inside, the cluster's own tokens are accepted too. The CA derives the
// SPIFFE ID from what this module returns, never from the CSR.
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, calculateJwkThumbprint, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { SecurityError } from "./errors.ts";
import { privateKeyFromPem } from "./keys.ts";
import type { Clock } from "../lib/clock.ts";

/** the audience Istio's agent asks Kubernetes for when it talks to istiod's CA */
export const DEFAULT_TOKEN_AUDIENCE = "istio-ca";
/** `iss` of tokens the dietmesh CA mints itself */
export const LOCAL_TOKEN_ISSUER = "dietmesh-ca";
export const DEFAULT_TOKEN_TTL_MS = 3_600_000;
/** the skew RequestAuthentication allows too (REFERENCE.md) */
const CLOCK_TOLERANCE_S = 60;
/** local tokens are ES256 only; Kubernetes signs with RS256 by default, ES256 when so configured */
const LOCAL_ALGORITHMS = ["ES256"];
const KUBERNETES_ALGORITHMS = ["RS256", "ES256"];

export interface ServiceAccountRef {
  namespace: string;
  serviceAccount: string;
}

/** the CA's token key: private half to sign, public JWK set for verifiers */
export interface TokenSigningKey {
  privateKey: CryptoKey;
  kid: string;
  jwks: JSONWebKeySet;
}

/**
 * Loads token-key.pem (PKCS#8, ECDSA P-256). The key is read extractable only long enough to
 * derive its public JWK; the signing copy kept in memory is not extractable.
 */
export async function loadTokenSigningKey(pem: string): Promise<TokenSigningKey> {
  const extractable = await privateKeyFromPem(pem, true);
  if (extractable.algorithm.name !== "ECDSA") throw new SecurityError("key-unsupported", "token-key.pem must be an ECDSA P-256 key");
  const { d: _d, key_ops: _ops, ext: _ext, ...pub } = await crypto.subtle.exportKey("jwk", extractable);
  const kid = await calculateJwkThumbprint(pub as JWK);
  const privateKey = await crypto.subtle.importKey("jwk", await crypto.subtle.exportKey("jwk", extractable), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  return { privateKey, kid, jwks: { keys: [{ ...(pub as JWK), kid, alg: "ES256", use: "sig" }] } };
}

export interface TokenOptions extends ServiceAccountRef {
  clock: Pick<Clock, "now">;
  audience?: string;
  ttlMs?: number;
}

/** a JWT with the claims a Kubernetes projected service-account token carries */
export async function issueBootstrapToken(key: TokenSigningKey, options: TokenOptions): Promise<string> {
  checkServiceAccountNames(options.namespace, options.serviceAccount);
  const now = Math.floor(options.clock.now() / 1000);
  const ttl = Math.floor((options.ttlMs ?? DEFAULT_TOKEN_TTL_MS) / 1000);
  if (!(ttl > 0)) throw new SecurityError("token-invalid", "token TTL must be at least one second");
  return new SignJWT({ "kubernetes.io": { namespace: options.namespace, serviceaccount: { name: options.serviceAccount } } })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
    .setIssuer(LOCAL_TOKEN_ISSUER)
    .setSubject(`system:serviceaccount:${options.namespace}:${options.serviceAccount}`)
    .setAudience([options.audience ?? DEFAULT_TOKEN_AUDIENCE])
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ttl)
    .sign(key.privateKey);
}

export interface AuthenticateOptions {
  /** the CA's own token keys (TokenSigningKey.jwks) */
  localKeys: JSONWebKeySet;
  /** the cluster's service-account issuer keys, when running beside Kubernetes */
  kubernetesJwks?: JSONWebKeySet | JWTVerifyGetKey;
  /** the cluster's `iss`, e.g. https://kubernetes.default.svc.cluster.local; unchecked if absent */
  kubernetesIssuer?: string;
  audience: string;
  clock: Pick<Clock, "now">;
}

/** who the token says the caller is, after signature, algorithm, audience and time checks */
export async function authenticateCaller(token: string, options: AuthenticateOptions): Promise<ServiceAccountRef> {
  const base = { audience: options.audience, clockTolerance: CLOCK_TOLERANCE_S, currentDate: new Date(options.clock.now()), requiredClaims: ["exp", "sub"] };
  let payload;
  try {
    // the (unverified) kid only picks which key set and rules apply; each then verifies fully
    const kid = decodeProtectedHeader(token).kid;
    if (options.localKeys.keys.some((k) => k.kid !== undefined && k.kid === kid) || !options.kubernetesJwks) {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(options.localKeys), { ...base, algorithms: LOCAL_ALGORITHMS, issuer: LOCAL_TOKEN_ISSUER }));
    } else {
      const keys = typeof options.kubernetesJwks === "function" ? options.kubernetesJwks : createLocalJWKSet(options.kubernetesJwks);
      ({ payload } = await jwtVerify(token, keys, { ...base, algorithms: KUBERNETES_ALGORITHMS, issuer: options.kubernetesIssuer }));
    }
  } catch (cause) {
    const code = cause instanceof errors.JOSEError ? ` (${cause.code})` : "";
    throw new SecurityError("token-invalid", `bootstrap token refused: ${(cause as Error).message}${code}`, { cause });
  }
  return serviceAccountOf(payload as { sub?: string; "kubernetes.io"?: { namespace?: unknown; serviceaccount?: { name?: unknown } } });
}

const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

function serviceAccountOf(payload: { sub?: string; "kubernetes.io"?: { namespace?: unknown; serviceaccount?: { name?: unknown } } }): ServiceAccountRef {
  const m = SUBJECT.exec(payload.sub ?? "");
  if (!m) throw new SecurityError("token-claims", `token subject ${JSON.stringify(payload.sub)} is not system:serviceaccount:<namespace>:<name>`);
  const [, namespace, serviceAccount] = m;
  // when the Kubernetes claim is there it must agree with sub; a mismatch means a forged or odd token
  const k8s = payload["kubernetes.io"];
  if (k8s && (k8s.namespace !== namespace || k8s.serviceaccount?.name !== serviceAccount)) {
    throw new SecurityError("token-claims", "token's kubernetes.io claim disagrees with its subject");
  }
  checkServiceAccountNames(namespace, serviceAccount);
  return { namespace, serviceAccount };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Kubernetes' own rules for the names, which also keep them valid SPIFFE path segments */
export function checkServiceAccountNames(namespace: string, serviceAccount: string): void {
  if (!DNS_LABEL.test(namespace)) throw new SecurityError("token-claims", `namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  if (serviceAccount.length > 253 || !DNS_SUBDOMAIN.test(serviceAccount)) {
    throw new SecurityError("token-claims", `service account ${JSON.stringify(serviceAccount)} is not a DNS-1123 subdomain`);
  }
}
