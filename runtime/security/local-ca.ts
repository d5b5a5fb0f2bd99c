// A proxy's `--ca-dir` identity: the local CA directory (`dietmesh ca init`) signs the workload's
// CSR in process, written with der.ts instead of the CA's X.509 library (@peculiar/x509, ~9 MB
// that would stay in every mTLS sidecar). The certificate follows the same SVID profile as
// ca.ts's issueSvid (docs/security.md "SVID profile"): test/security/local-ca.test.ts compares
// the two field by field and has openssl verify -x509_strict judge ours. `dietmesh ca` and
// `ca serve` keep ca.ts.
import type { Clock } from "../lib/clock.ts";
import { bitString, bitStringBytes, children, expectTag, octetString, oid, readOid, readOne, seq, tlv, unsignedInteger, ecdsaRawToDer, TAG } from "./der.ts";
import { certificatesFromPemText, importSpki, OIDS, spkiKind, verifySignature, type Certificate } from "./certificate.ts";
import { readCaDir } from "./ca-store.ts";
import { SecurityError } from "./errors.ts";
import { signingAlgorithm } from "./keys.ts";
import { pemDecode, pemEncode } from "./pem-codec.ts";
import { SpiffeId } from "./spiffe-id.ts";
import type { CsrSigner } from "./workload-identity.ts";

/** ca.ts's BACKDATE_MS and DEFAULT_SVID_TTL_MS (not imported: that module loads the library; the test checks they agree) */
export const BACKDATE_MS = 5 * 60_000;
export const DEFAULT_TTL_MS = 24 * 3_600_000;

export interface LocalCa {
  readonly trustDomain: string;
  readonly certificate: Certificate;
  readonly privateKey: CryptoKey;
}

/** the directory's root and key, checked as loadCaDir checks them (same errors, same order) */
export async function loadLocalCa(dir: string): Promise<LocalCa> {
  const { trustDomain, certificate, privateKey } = await readCaDir(dir, certificatesFromPemText, (c) => importSpki(c.publicKey));
  return { trustDomain, certificate, privateKey };
}

/** signs CSRs for one service account, as signers.ts's localSigner does with ca.ts */
export function localCaSigner(ca: LocalCa, namespace: string, serviceAccount: string, clock: Pick<Clock, "now">): CsrSigner {
  const spiffeId = SpiffeId.forWorkload(ca.trustDomain, namespace, serviceAccount);
  const rootCertPem = pemEncode("CERTIFICATE", ca.certificate.rawData);
  return async (csrPem, ttlMs) => ({ certChainPem: pemEncode("CERTIFICATE", await issueFromCsr(ca, { csrPem, spiffeId, clock, ttlMs })), rootCertPem });
}

const SIGNATURE_ALGORITHM: Record<string, Uint8Array> = {
  ECDSA: seq(oid("1.2.840.10045.4.3.2")),
  "RSASSA-PKCS1-v1_5": seq(oid("1.2.840.113549.1.1.11"), tlv(TAG.null)),
};
const TRUE = tlv(TAG.boolean, new Uint8Array([0xff]));

/** the CSR's SubjectPublicKeyInfo, once its self-signature verifies (proof the caller holds the key) */
async function csrPublicKey(csrPem: string): Promise<Uint8Array> {
  let info, spki, algorithm, signature;
  try {
    const [infoTlv, alg, sig] = children(readOne(pemDecode(csrPem, "CERTIFICATE REQUEST"), TAG.sequence).body);
    info = expectTag(infoTlv, TAG.sequence, "CertificationRequestInfo");
    spki = expectTag(children(info.body)[2], TAG.sequence, "subjectPKInfo").raw;
    algorithm = readOid(expectTag(children(expectTag(alg, TAG.sequence, "signatureAlgorithm").body)[0], TAG.oid, "algorithm").body);
    signature = bitStringBytes(expectTag(sig, TAG.bitString, "signature").body);
  } catch (cause) {
    throw new SecurityError("csr-invalid", "not a PKCS#10 certificate request", { cause });
  }
  if (!(await verifySignature(spki, algorithm, info.raw, signature))) throw new SecurityError("csr-invalid", "CSR signature does not verify with its own public key");
  return spki;
}

/** EC P-256/P-384 or RSA 2048–4096, as keys.ts's publicKeyKind accepts */
function keyKind(spki: Uint8Array): "ec" | "rsa" {
  const key = spkiKind(spki);
  if (key.kind === "ec" && (key.namedCurve === "P-256" || key.namedCurve === "P-384")) return "ec";
  if (key.kind === "rsa" && key.bits >= 2048 && key.bits <= 4096) return "rsa";
  const what = key.kind === "ec" ? `ECDSA ${key.namedCurve}` : key.kind === "rsa" ? `RSASSA-PKCS1-v1_5 ${key.bits}` : key.oid;
  throw new SecurityError("key-unsupported", `workload key ${what} is not accepted (EC P-256/P-384 or RSA 2048–4096)`);
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5) */
function time(date: Date): Uint8Array {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(TAG.utcTime, new TextEncoder().encode(iso.slice(2))) : tlv(TAG.generalizedTime, new TextEncoder().encode(iso));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits */
async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  const key = bitStringBytes(expectTag(children(readOne(spki, TAG.sequence).body)[1], TAG.bitString, "subjectPublicKey").body);
  return new Uint8Array(await crypto.subtle.digest("SHA-1", key as Uint8Array<ArrayBuffer>));
}

const extension = (id: string, critical: boolean, value: Uint8Array) => seq(oid(id), ...(critical ? [TRUE] : []), octetString(value));

export interface LocalIssueOptions {
  csrPem: string;
  spiffeId: SpiffeId;
  clock: Pick<Clock, "now">;
  ttlMs?: number;
}

/** an X.509-SVID for the CSR's key, the identity being the one given (never the CSR's); DER */
export async function issueFromCsr(ca: LocalCa, options: LocalIssueOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { spiffeId, clock } = options;
  if (spiffeId.trustDomain !== ca.trustDomain) throw new SecurityError("svid-invalid", `${spiffeId} is not in this CA's trust domain ${ca.trustDomain}`);
  if (spiffeId.path === "") throw new SecurityError("svid-invalid", "an SVID names a workload, not the bare trust domain");
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
  if (!(ttl > 0)) throw new SecurityError("svid-invalid", `TTL must be positive, got ${ttl} ms`);
  const spki = await csrPublicKey(options.csrPem);
  const usage = keyKind(spki) === "rsa" ? 0xa0 : 0x80; // digitalSignature, plus keyEncipherment for RSA
  const now = clock.now();
  const issuer = ca.certificate;
  if (now < issuer.notBefore.getTime() || now >= issuer.notAfter.getTime()) {
    throw new SecurityError("ca-expired", `CA certificate is valid ${issuer.notBefore.toISOString()} to ${issuer.notAfter.toISOString()}`);
  }
  const notBefore = new Date(Math.max(wholeSecond(now - BACKDATE_MS), issuer.notBefore.getTime()));
  const notAfter = new Date(Math.min(wholeSecond(now + ttl), issuer.notAfter.getTime()));
  const ski = issuer.extension("2.5.29.14");
  const issuerKeyId = ski ? readOne(ski.value, TAG.octetString).body : await keyId(issuer.publicKey);
  const algorithm = SIGNATURE_ALGORITHM[ca.privateKey.algorithm.name];
  if (!algorithm) throw new SecurityError("key-unsupported", `cannot sign with a ${ca.privateKey.algorithm.name} key`);
  const extensions = [
    // empty subject, so the URI SAN (the identity) is critical
    extension(OIDS.subjectAltName, true, seq(tlv(0x86, new TextEncoder().encode(spiffeId.toString())))),
    extension(OIDS.basicConstraints, true, seq()), // cA FALSE is the default, so absent in DER
    extension(OIDS.keyUsage, true, tlv(TAG.bitString, new Uint8Array([usage === 0x80 ? 7 : 5, usage]))),
    extension(OIDS.extKeyUsage, false, seq(oid(OIDS.serverAuth), oid(OIDS.clientAuth))),
    extension("2.5.29.14", false, octetString(await keyId(spki))),
    extension("2.5.29.35", false, seq(tlv(0x80, issuerKeyId))),
  ];
  const tbs = seq(
    tlv(0xa0, tlv(TAG.integer, new Uint8Array([2]))),
    unsignedInteger(randomSerial()),
    algorithm,
    issuer.subjectName,
    seq(time(notBefore), time(notAfter)),
    seq(),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const raw = new Uint8Array(await crypto.subtle.sign(signingAlgorithm(ca.privateKey), ca.privateKey, tbs));
  return seq(tbs, algorithm, bitString(ca.privateKey.algorithm.name === "ECDSA" ? ecdsaRawToDer(raw) : raw));
}

/** 16 random bytes, high bit clear and first byte non-zero: positive and minimal, as ca.ts makes them */
function randomSerial(): Uint8Array {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 1;
  return bytes;
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
