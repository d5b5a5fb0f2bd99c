// The mesh CA: a self-signed root and the X.509-SVIDs it signs. The identity in a certificate is
// always the one the caller passes in (derived from an authenticated caller, see ca-service.ts),
// never anything a CSR asks for: only the CSR's public key is used.
import { SecurityError } from "./errors.ts";
import { publicKeyKind, signingAlgorithm, generateKeyPair, type KeyType } from "./keys.ts";
import { pemDecode } from "./pem.ts";
import { SpiffeId } from "./spiffe-id.ts";
import { x509 } from "./x509-lib.ts";
import type { Pkcs10CertificateRequest, PublicKey, X509Certificate } from "@peculiar/x509";
import type { Clock } from "../lib/clock.ts";

const HOUR_MS = 3_600_000;
/** Istio's self-signed root lives 10 years (87600h) */
export const ROOT_LIFETIME_MS = 87_600 * HOUR_MS;
/** Istio's workload certificate TTL */
export const DEFAULT_SVID_TTL_MS = 24 * HOUR_MS;
/** notBefore is set this far in the past so a peer whose clock runs a little behind accepts it */
export const BACKDATE_MS = 5 * 60_000;

export interface CertificateAuthority {
  readonly trustDomain: string;
  /** the certificate that signs SVIDs; today always the self-signed root */
  readonly certificate: X509Certificate;
  readonly privateKey: CryptoKey;
}

export interface RootOptions {
  trustDomain: string;
  keyType?: KeyType;
  clock: Pick<Clock, "now">;
  lifetimeMs?: number;
}

export async function createRootCa(options: RootOptions): Promise<CertificateAuthority> {
  const { trustDomain, clock } = options;
  SpiffeId.forTrustDomain(trustDomain); // throws unless a SPIFFE ID can carry it
  // extractable, so `dietmesh ca init` can write root-key.pem
  const keys = await generateKeyPair(options.keyType ?? "ec-p256", true);
  const now = clock.now();
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=dietmesh, CN=${trustDomain} root`,
    notBefore: wholeSecond(now - BACKDATE_MS),
    notAfter: wholeSecond(now + (options.lifetimeMs ?? ROOT_LIFETIME_MS)),
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ski,
      // self-signed roots may omit it; strict verifiers and path builders are happier with it
      new x509.AuthorityKeyIdentifierExtension(ski.keyId),
    ],
  });
  return { trustDomain, certificate, privateKey: keys.privateKey };
}

export interface IssueOptions {
  /** the identity to sign, decided by the CA from the authenticated caller */
  spiffeId: SpiffeId;
  /** the workload's public key (from its CSR, or a CryptoKey for keys made on the spot) */
  publicKey: PublicKey | CryptoKey;
  clock: Pick<Clock, "now">;
  ttlMs?: number;
  /** DNS names and IP addresses beside the SPIFFE ID: only for the CA's own serving certificate, so HTTPS clients can check the host they dialled */
  serverNames?: string[];
}

const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

/** signs an X.509-SVID; see docs/security.md "SVID profile" for each field and why */
export async function issueSvid(ca: CertificateAuthority, options: IssueOptions): Promise<X509Certificate> {
  const { spiffeId, clock } = options;
  if (spiffeId.trustDomain !== ca.trustDomain) {
    throw new SecurityError("svid-invalid", `${spiffeId} is not in this CA's trust domain ${ca.trustDomain}`);
  }
  if (spiffeId.path === "") throw new SecurityError("svid-invalid", "an SVID names a workload, not the bare trust domain");
  const ttl = options.ttlMs ?? DEFAULT_SVID_TTL_MS;
  if (!(ttl > 0)) throw new SecurityError("svid-invalid", `TTL must be positive, got ${ttl} ms`);
  const now = clock.now();
  const issuer = ca.certificate;
  if (now < issuer.notBefore.getTime() || now >= issuer.notAfter.getTime()) {
    throw new SecurityError("ca-expired", `CA certificate is valid ${issuer.notBefore.toISOString()} to ${issuer.notAfter.toISOString()}`);
  }
  const publicKey = options.publicKey instanceof x509.PublicKey ? options.publicKey : await x509.PublicKey.create(options.publicKey);
  const usages = x509.KeyUsageFlags.digitalSignature | (publicKeyKind(publicKey) === "rsa" ? x509.KeyUsageFlags.keyEncipherment : 0);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    // empty subject, as Istio's and SPIRE's SVIDs: the URI SAN is the identity, so it is critical
    subject: "",
    issuer: issuer.subjectName,
    // back-dated for skew, but never before the issuer's own start
    notBefore: new Date(Math.max(wholeSecond(now - BACKDATE_MS).getTime(), issuer.notBefore.getTime())),
    notAfter: new Date(Math.min(wholeSecond(now + ttl).getTime(), issuer.notAfter.getTime())),
    publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: signingAlgorithm(ca.privateKey),
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        [{ type: "url", value: spiffeId.toString() }, ...(options.serverNames ?? []).map((name) => ({ type: IP_ADDRESS.test(name) ? ("ip" as const) : ("dns" as const), value: name }))],
        true,
      ),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      new x509.AuthorityKeyIdentifierExtension(await subjectKeyId(issuer)),
    ],
  });
}

export interface CsrIssueOptions extends Omit<IssueOptions, "publicKey"> {
  /** PEM text or DER bytes of a PKCS#10 request */
  csr: string | Uint8Array<ArrayBuffer> | Pkcs10CertificateRequest;
}

/**
 * Signs a CSR after checking its self-signature (proof the caller holds the private key). Its
 * subject, SANs and requested extensions are deliberately ignored.
 */
export async function issueSvidFromCsr(ca: CertificateAuthority, options: CsrIssueOptions): Promise<X509Certificate> {
  const csr = parseCsr(options.csr);
  let signed = false;
  try {
    signed = await csr.verify();
  } catch {
    signed = false; // an unsupported signature algorithm is as bad as a wrong signature
  }
  if (!signed) throw new SecurityError("csr-invalid", "CSR signature does not verify with its own public key");
  return issueSvid(ca, { ...options, publicKey: csr.publicKey });
}

function parseCsr(input: CsrIssueOptions["csr"]): Pkcs10CertificateRequest {
  if (input instanceof x509.Pkcs10CertificateRequest) return input;
  const der = typeof input === "string" ? pemDecode(input, "CERTIFICATE REQUEST") : input;
  try {
    return new x509.Pkcs10CertificateRequest(der);
  } catch (cause) {
    throw new SecurityError("csr-invalid", "not a PKCS#10 certificate request", { cause });
  }
}

/** the issuer's SKI, so AKI matches it byte for byte (computing it afresh could differ in method) */
async function subjectKeyId(cert: X509Certificate): Promise<string> {
  const ext = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ext ? ext.keyId : (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey)).keyId;
}

/**
 * 16 random bytes (RFC 5280 allows up to 20), high bit clear so the INTEGER is positive, and a
 * non-zero first byte so the DER encoding is minimal, as strict parsers insist.
 */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 1;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** X.509 times carry whole seconds; rounding down here keeps comparisons with parsed certs exact */
function wholeSecond(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
