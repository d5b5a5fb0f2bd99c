// PEM (RFC 7468) in and out, plus base64 for DER: the text form of every certificate, key and CSR
// dietmesh writes (Istio's cert-chain.pem, key.pem, root-cert.pem) or reads. The codec itself is
// pem-codec.ts; this module adds @peculiar/x509 certificate objects for the CA side.
import { SecurityError } from "./errors.ts";
import { x509 } from "./x509-lib.ts";
import type { X509Certificate } from "@peculiar/x509";

export { fromBase64, pemDecode, pemDecodeAll, pemEncode, toBase64, type PemLabel } from "./pem-codec.ts";
import { pemDecodeAll, pemEncode } from "./pem-codec.ts";

/** certificates in PEM order (leaf first, as cert-chain.pem has them) */
export function certificatesFromPem(text: string): X509Certificate[] {
  return pemDecodeAll(text, "CERTIFICATE").map((der) => parseCertificate(der));
}

export function certificatesToPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => pemEncode("CERTIFICATE", c.rawData)).join("");
}

export function parseCertificate(der: Uint8Array<ArrayBuffer> | ArrayBuffer): X509Certificate {
  try {
    return new x509.X509Certificate(der);
  } catch (cause) {
    throw new SecurityError("pem-invalid", "a CERTIFICATE block is not a valid X.509 certificate", { cause });
  }
}
