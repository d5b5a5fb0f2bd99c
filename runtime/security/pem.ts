// PEM (RFC 7468) in and out, plus base64 for DER: the text form of every certificate, key and CSR
// dietmesh writes (Istio's cert-chain.pem, key.pem, root-cert.pem) or reads.
import { SecurityError } from "./errors.ts";
import { x509 } from "./x509-lib.ts";
import type { X509Certificate } from "@peculiar/x509";

export type PemLabel = "CERTIFICATE" | "PRIVATE KEY" | "CERTIFICATE REQUEST" | "PUBLIC KEY";

export function toBase64(der: ArrayBuffer | Uint8Array): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let binary = "";
  // chunked: String.fromCharCode(...bytes) overflows the stack on large inputs
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text.replace(/\s+/g, ""));
  } catch (cause) {
    throw new SecurityError("pem-invalid", "invalid base64", { cause });
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** one PEM block, base64 wrapped at 64 columns as RFC 7468 asks, ending in a newline */
export function pemEncode(label: PemLabel, der: ArrayBuffer | Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** every block with this label, in file order; text around and between blocks is ignored */
export function pemDecodeAll(text: string, label: PemLabel): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const m of text.matchAll(BLOCK)) if (m[1] === label) out.push(fromBase64(m[2]));
  return out;
}

/** exactly the first block with this label; a missing block is an error, not an empty result */
export function pemDecode(text: string, label: PemLabel): Uint8Array<ArrayBuffer> {
  const first = pemDecodeAll(text, label)[0];
  if (!first) throw new SecurityError("pem-invalid", `no "${label}" PEM block found`);
  return first;
}

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
