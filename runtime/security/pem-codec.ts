// PEM (RFC 7468) in and out, plus base64 for DER, with no X.509 library behind it: the text form of
// every certificate, key and CSR dietmesh writes or reads. pem.ts adds certificate objects of
// @peculiar/x509 on top for the CA side; the serving path uses this module and certificate.ts.
import { SecurityError } from "./errors.ts";

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
