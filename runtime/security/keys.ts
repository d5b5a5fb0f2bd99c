// Key pairs, their PKCS#8 PEM form, and the workload's side of issuance: it makes its own key and
// a CSR, and only the CSR leaves the process (Istio's rule: the private key never leaves the workload).
import { SecurityError } from "./errors.ts";
import { pemDecode, pemEncode } from "./pem-codec.ts";
import { ecdsaRawToDer, oid, seq, tlv, bitString, octetString, TAG } from "./der.ts";
import type { Pkcs10CertificateRequest, PublicKey } from "@peculiar/x509";
import type { SpiffeId } from "./spiffe-id.ts";

/** what the CA signs with; workloads always get ec-p256 (small, fast handshakes, Istio's default) */
export type KeyType = "ec-p256" | "rsa-2048";
export const KEY_TYPES: readonly KeyType[] = ["ec-p256", "rsa-2048"];

const EC_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const RSA_2048 = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } as const;

export function keyGenParams(type: KeyType): EcKeyGenParams | RsaHashedKeyGenParams {
  return type === "ec-p256" ? EC_P256 : RSA_2048;
}

/** the signature algorithm a key of this kind signs certificates and CSRs with (always SHA-256) */
export function signingAlgorithm(key: CryptoKey): EcdsaParams | Algorithm {
  if (key.algorithm.name === "ECDSA") return { name: "ECDSA", hash: "SHA-256" };
  if (key.algorithm.name === "RSASSA-PKCS1-v1_5") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
  throw new SecurityError("key-unsupported", `cannot sign with a ${key.algorithm.name} key`);
}

/** keys must be extractable to be written to key.pem; pass false for keys that stay in memory */
export async function generateKeyPair(type: KeyType = "ec-p256", extractable = true): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(keyGenParams(type), extractable, ["sign", "verify"])) as CryptoKeyPair;
}

/** the workload's key: ECDSA P-256, as Istio's agent makes by default */
export function generateWorkloadKey(): Promise<CryptoKeyPair> {
  return generateKeyPair("ec-p256", true);
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return pemEncode("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", key));
}

/**
 * A PKCS#8 "PRIVATE KEY" block back to a signing key. PKCS#8 names its algorithm inside, but
 * WebCrypto wants it up front, so the two kinds dietmesh writes are tried in turn.
 */
export async function privateKeyFromPem(pem: string, extractable = false): Promise<CryptoKey> {
  const der = pemDecode(pem, "PRIVATE KEY");
  for (const params of [EC_P256, RSA_2048]) {
    try {
      return await crypto.subtle.importKey("pkcs8", der, params, extractable, ["sign"]);
    } catch {
      // not this kind; try the next
    }
  }
  throw new SecurityError("key-unsupported", "key.pem holds neither an ECDSA P-256 nor an RSA PKCS#8 key");
}

/** the kinds of workload public key the CA accepts: EC P-256/P-384, RSA 2048–4096 bits */
export function publicKeyKind(key: PublicKey): "ec" | "rsa" {
  const alg = key.algorithm as Partial<EcKeyAlgorithm & RsaKeyAlgorithm> & Algorithm;
  if (alg.name === "ECDSA" && (alg.namedCurve === "P-256" || alg.namedCurve === "P-384")) return "ec";
  const bits = alg.modulusLength ?? 0;
  if (alg.name === "RSASSA-PKCS1-v1_5" && bits >= 2048 && bits <= 4096) return "rsa";
  throw new SecurityError("key-unsupported", `workload key ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ""}${bits ? ` ${bits}` : ""} is not accepted (EC P-256/P-384 or RSA 2048–4096)`);
}

/**
 * The CSR a workload sends. Subject empty, as the SVID will be; the optional URI SAN is only a
 * hint for humans reading it: the CA ignores it and signs the identity the caller proves.
 */
export async function createCsr(keys: CryptoKeyPair, requested?: SpiffeId): Promise<Pkcs10CertificateRequest> {
  // the library loads only here (the CA side and tests): a proxy uses createCsrPem
  const { x509 } = await import("./x509-lib.ts");
  const extensions = requested ? [new x509.SubjectAlternativeNameExtension([{ type: "url", value: requested.toString() }])] : [];
  return x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: signingAlgorithm(keys.privateKey), extensions });
}

const SIGNATURE_ALGORITHM: Record<string, Uint8Array> = {
  ECDSA: seq(oid("1.2.840.10045.4.3.2")), // ecdsa-with-SHA256, no parameters (RFC 5758)
  "RSASSA-PKCS1-v1_5": seq(oid("1.2.840.113549.1.1.11"), tlv(TAG.null)), // sha256WithRSAEncryption, NULL parameters
};

/**
 * The same request as createCsr, as PEM, written with der.ts: what a serving proxy sends without
 * loading an X.509 library. PKCS#10 (RFC 2986): version 0, empty subject, the key, and the SAN
 * hint as an extensionRequest attribute; signed with the key's own SHA-256 signature.
 */
export async function createCsrPem(keys: CryptoKeyPair, requested?: SpiffeId): Promise<string> {
  const algorithm = SIGNATURE_ALGORITHM[keys.privateKey.algorithm.name];
  if (!algorithm) throw new SecurityError("key-unsupported", `cannot sign with a ${keys.privateKey.algorithm.name} key`);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const san = requested ? seq(tlv(0x86, new TextEncoder().encode(requested.toString()))) : undefined;
  const attributes = san ? [seq(oid("1.2.840.113549.1.9.14"), tlv(TAG.set, seq(seq(oid("2.5.29.17"), octetString(san)))))] : [];
  const info = seq(tlv(TAG.integer, new Uint8Array([0])), seq(), spki, tlv(0xa0, ...attributes));
  const raw = new Uint8Array(await crypto.subtle.sign(signingAlgorithm(keys.privateKey), keys.privateKey, info));
  const signature = keys.privateKey.algorithm.name === "ECDSA" ? ecdsaRawToDer(raw) : raw;
  return pemEncode("CERTIFICATE REQUEST", seq(info, algorithm, bitString(signature)));
}
