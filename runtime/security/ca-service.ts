// What the CA endpoint does for one request (Istio's CreateCertificate): authenticate the caller
// from its token, derive the SPIFFE ID from that alone, sign the CSR's key for it. Transport-free,
// so `ca serve` can wrap it in whatever listener comes later and tests can call it directly.
import { issueSvidFromCsr, DEFAULT_SVID_TTL_MS, type CertificateAuthority } from "./ca.ts";
import { certificatesToPem } from "./pem.ts";
import { SpiffeId } from "./spiffe-id.ts";
import { authenticateCaller, type AuthenticateOptions } from "./tokens.ts";

export interface CaServiceOptions {
  ca: CertificateAuthority;
  auth: AuthenticateOptions;
  /** what callers get when they ask for nothing; also the cap on what they may ask for */
  defaultTtlMs?: number;
  maxTtlMs?: number;
}

export interface SignRequest {
  /** bearer token from the caller (Kubernetes projected token or `dietmesh ca token`) */
  token: string;
  /** PEM PKCS#10; its subject and SANs are ignored */
  csrPem: string;
  /** Istio's validity_duration; capped at maxTtlMs */
  ttlMs?: number;
}

export interface SignResponse {
  spiffeId: SpiffeId;
  /** cert-chain.pem: the leaf, then intermediates (none while the CA is the root) */
  certChainPem: string;
  /** root-cert.pem: what the workload trusts */
  rootCertPem: string;
}

export interface CaService {
  sign(request: SignRequest): Promise<SignResponse>;
}

export function createCaService(options: CaServiceOptions): CaService {
  const { ca, auth } = options;
  const defaultTtl = options.defaultTtlMs ?? DEFAULT_SVID_TTL_MS;
  const maxTtl = options.maxTtlMs ?? defaultTtl;
  const rootCertPem = certificatesToPem([ca.certificate]);
  return {
    async sign(request) {
      // authentication first: an unauthenticated caller learns nothing about its CSR
      const caller = await authenticateCaller(request.token, auth);
      const spiffeId = SpiffeId.forWorkload(ca.trustDomain, caller.namespace, caller.serviceAccount);
      const ttlMs = Math.min(request.ttlMs && request.ttlMs > 0 ? request.ttlMs : defaultTtl, maxTtl);
      const leaf = await issueSvidFromCsr(ca, { csr: request.csrPem, spiffeId, clock: auth.clock, ttlMs });
      return { spiffeId, certChainPem: certificatesToPem([leaf]), rootCertPem };
    },
  };
}
