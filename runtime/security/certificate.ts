// An X.509 certificate read from DER with the fields a proxy acts on: validity, names, SANs, basic
// constraints, key usage, EKU, every extension with its critical flag, and the signature check
// over the TBS bytes by WebCrypto. This is what the serving path (workload identity, the peer
// verifier) uses instead of @peculiar/x509; the CA side (`dietmesh ca`) keeps that library.
// Name strings are formatted as @peculiar/x509 formats them, so messages and comparisons agree.
import { bitStringBytes, children, DerError, ecdsaDerToRaw, expectTag, hex, latin1, readOid, readOne, readTime, TAG, type Tlv } from "./der.ts";
import { SecurityError } from "./errors.ts";
import { pemDecodeAll } from "./pem-codec.ts";

export const OIDS = {
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** RFC 5280's KeyUsage bits, bit n as 1 << n (@peculiar/x509's KeyUsageFlags numbering) */
export const KEY_USAGE = { digitalSignature: 1, nonRepudiation: 2, keyEncipherment: 4, dataEncipherment: 8, keyAgreement: 16, keyCertSign: 32, cRLSign: 64, encipherOnly: 128, decipherOnly: 256 } as const;

export interface Extension {
  /** the OID */
  type: string;
  critical: boolean;
  /** the DER inside extnValue */
  value: Uint8Array;
}

export interface GeneralName {
  type: "email" | "dns" | "url" | "ip" | `tag ${number}`;
  value: string;
}

/** anything that carries a certificate's DER, as @peculiar/x509's X509Certificate does */
export interface CertificateLike {
  readonly rawData: ArrayBuffer;
}

const NAME_LABELS: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "E",
  "2.5.4.42": "G",
  "2.5.4.43": "I",
  "2.5.4.4": "SN",
  "2.5.4.12": "T",
};

function escapeValue(text: string): string {
  return text
    .replace(/([,+"\\<>;])/g, "\\$1")
    .replace(/^([ #])/, "\\$1")
    .replace(/([ ]$)/, "\\$1")
    .replace(/([\r\n\t])/, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()}`);
}

function directoryString(t: Tlv): string | undefined {
  switch (t.tag) {
    case TAG.utf8String:
      return new TextDecoder().decode(t.body);
    case TAG.printableString:
    case 0x14: // TeletexString
    case TAG.ia5String:
      return latin1(t.body);
    case 0x1e: // BMPString, UTF-16BE
      return String.fromCharCode(...Array.from({ length: t.body.length >> 1 }, (_, i) => (t.body[2 * i] << 8) | t.body[2 * i + 1]));
    case 0x1c: // UniversalString, UTF-32BE
      return String.fromCodePoint(...Array.from({ length: t.body.length >> 2 }, (_, i) => new DataView(t.body.buffer, t.body.byteOffset + 4 * i, 4).getUint32(0)));
    default:
      return undefined; // IA5String and the rest: shown as #hex of the whole element
  }
}

/** "CN=a, O=b" in the certificate's RDN order, multi-valued RDNs joined by "+" */
export function nameToString(name: Uint8Array): string {
  return children(name)
    .map((rdn) =>
      children(expectTag(rdn, TAG.set, "RDN").body)
        .map((atv) => {
          const [type, value] = children(expectTag(atv, TAG.sequence, "AttributeTypeAndValue").body);
          const id = readOid(expectTag(type, TAG.oid, "attribute type").body);
          if (!value) throw new DerError("attribute without a value");
          const text = directoryString(value);
          return `${NAME_LABELS[id] ?? id}=${text === undefined ? `#${hex(value.raw)}` : escapeValue(text)}`;
        })
        .join("+"),
    )
    .join(", ");
}

function ipString(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length === 16) {
    const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16));
    return groups.join(":");
  }
  return hex(bytes);
}

export function parseGeneralNames(der: Uint8Array): GeneralName[] {
  return children(readOne(der, TAG.sequence).body).map((n) => {
    switch (n.tag) {
      case 0x81:
        return { type: "email", value: latin1(n.body) };
      case 0x82:
        return { type: "dns", value: latin1(n.body) };
      case 0x86:
        return { type: "url", value: latin1(n.body) };
      case 0x87:
        return { type: "ip", value: ipString(n.body) };
      default:
        return { type: `tag ${n.tag}`, value: hex(n.body) };
    }
  });
}

/** what WebCrypto needs to check a signature made with this algorithm (OID from the certificate) */
const SIGNATURES: Record<string, { name: "ECDSA" | "RSASSA-PKCS1-v1_5"; hash: string }> = {
  "1.2.840.10045.4.3.2": { name: "ECDSA", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ECDSA", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ECDSA", hash: "SHA-512" },
  "1.2.840.113549.1.1.11": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" },
};
const CURVES: Record<string, { namedCurve: string; width: number }> = {
  "1.2.840.10045.3.1.7": { namedCurve: "P-256", width: 32 },
  "1.3.132.0.34": { namedCurve: "P-384", width: 48 },
  "1.3.132.0.35": { namedCurve: "P-521", width: 66 },
};
const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const RSA_ENCRYPTION = "1.2.840.113549.1.1.1";

/** a SubjectPublicKeyInfo's kind: EC with its curve, or RSA with its modulus size */
export function spkiKind(spki: Uint8Array): { kind: "ec"; namedCurve: string; width: number } | { kind: "rsa"; bits: number } | { kind: "other"; oid: string } {
  const [alg, key] = children(readOne(spki, TAG.sequence).body);
  const [algOid, params] = children(expectTag(alg, TAG.sequence, "SubjectPublicKeyInfo algorithm").body);
  const id = readOid(expectTag(algOid, TAG.oid, "key algorithm").body);
  if (id === EC_PUBLIC_KEY && params?.tag === TAG.oid) {
    const curve = CURVES[readOid(params.body)];
    if (curve) return { kind: "ec", ...curve };
  }
  if (id === RSA_ENCRYPTION) {
    const [modulus] = children(readOne(bitStringBytes(expectTag(key, TAG.bitString, "RSA key").body), TAG.sequence).body);
    let n = expectTag(modulus, TAG.integer, "RSA modulus").body;
    while (n.length > 1 && n[0] === 0) n = n.subarray(1);
    return { kind: "rsa", bits: n.length * 8 - Math.clz32(n[0]) + 24 };
  }
  return { kind: "other", oid: id };
}

/**
 * true when `signature` over `data` verifies with the SubjectPublicKeyInfo `spki` under the
 * signature algorithm `algorithmOid`; false for a wrong signature or an algorithm not handled here
 */
export async function verifySignature(spki: Uint8Array, algorithmOid: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const sig = SIGNATURES[algorithmOid];
  if (!sig) return false;
  try {
    const key = spkiKind(spki);
    if (sig.name === "ECDSA") {
      if (key.kind !== "ec") return false;
      const publicKey = await crypto.subtle.importKey("spki", spki as Uint8Array<ArrayBuffer>, { name: "ECDSA", namedCurve: key.namedCurve }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "ECDSA", hash: sig.hash }, publicKey, ecdsaDerToRaw(signature, key.width), data as Uint8Array<ArrayBuffer>);
    }
    if (key.kind !== "rsa") return false;
    const publicKey = await crypto.subtle.importKey("spki", spki as Uint8Array<ArrayBuffer>, { name: sig.name, hash: sig.hash }, false, ["verify"]);
    return await crypto.subtle.verify(sig.name, publicKey, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
  } catch {
    return false; // a malformed key or signature is as bad as a wrong one
  }
}

/** the public key of a SubjectPublicKeyInfo as WebCrypto verifies with it (RSA: PKCS#1 v1.5, SHA-256) */
export function importSpki(spki: Uint8Array): Promise<CryptoKey> {
  const key = spkiKind(spki);
  if (key.kind === "other") throw new SecurityError("key-unsupported", `public key algorithm ${key.oid} is not supported`);
  const params = key.kind === "ec" ? { name: "ECDSA", namedCurve: key.namedCurve } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  return crypto.subtle.importKey("spki", spki as Uint8Array<ArrayBuffer>, params, true, ["verify"]);
}

/** the fields of one certificate; construct with parseCertificateDer */
export class Certificate implements CertificateLike {
  readonly rawData: ArrayBuffer;
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  /** the subject Name's DER, as an issued certificate's issuer field must repeat it */
  readonly subjectName: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** the SubjectPublicKeyInfo DER */
  readonly publicKey: Uint8Array;
  readonly extensions: readonly Extension[];
  readonly signatureAlgorithm: string;
  readonly #tbs: Uint8Array;
  readonly #signature: Uint8Array;

  constructor(der: Uint8Array) {
    const bytes = der.slice();
    this.rawData = bytes.buffer;
    const [tbs, sigAlg, sigValue, extra] = children(readOne(bytes, TAG.sequence).body);
    if (extra) throw new DerError("extra element after the signature");
    this.#tbs = expectTag(tbs, TAG.sequence, "TBSCertificate").raw;
    this.signatureAlgorithm = readOid(expectTag(children(expectTag(sigAlg, TAG.sequence, "signatureAlgorithm").body)[0], TAG.oid, "signature algorithm").body);
    this.#signature = bitStringBytes(expectTag(sigValue, TAG.bitString, "signature").body);
    const fields = children(tbs.body);
    let i = 0;
    if (fields[0]?.tag === 0xa0) i++; // version [0]; v1 certificates omit it
    let serial = expectTag(fields[i++], TAG.integer, "serialNumber").body;
    if (serial.length > 1 && serial[0] === 0 && serial[1] > 0x7f) serial = serial.subarray(1);
    this.serialNumber = hex(serial);
    expectTag(fields[i++], TAG.sequence, "signature");
    this.issuer = nameToString(expectTag(fields[i++], TAG.sequence, "issuer").body);
    const [notBefore, notAfter] = children(expectTag(fields[i++], TAG.sequence, "validity").body);
    if (!notBefore || !notAfter) throw new DerError("validity needs notBefore and notAfter");
    this.notBefore = readTime(notBefore);
    this.notAfter = readTime(notAfter);
    this.subjectName = expectTag(fields[i], TAG.sequence, "subject").raw;
    this.subject = nameToString(fields[i++].body);
    this.publicKey = expectTag(fields[i++], TAG.sequence, "subjectPublicKeyInfo").raw;
    const extensions: Extension[] = [];
    for (const field of fields.slice(i)) {
      if (field.tag !== 0xa3) continue; // issuer/subject unique IDs [1] [2]: unused
      for (const ext of children(readOne(field.body, TAG.sequence).body)) {
        const parts = children(expectTag(ext, TAG.sequence, "Extension").body);
        const type = readOid(expectTag(parts[0], TAG.oid, "extnID").body);
        const critical = parts[1]?.tag === TAG.boolean ? parts[1].body[0] !== 0 : false;
        const value = expectTag(parts[parts.length - 1], TAG.octetString, "extnValue").body;
        extensions.push({ type, critical, value });
      }
    }
    this.extensions = extensions;
  }

  extension(type: string): Extension | undefined {
    return this.extensions.find((e) => e.type === type);
  }

  /** the subject alternative names, [] without the extension */
  get subjectAltNames(): GeneralName[] {
    const ext = this.extension(OIDS.subjectAltName);
    return ext ? parseGeneralNames(ext.value) : [];
  }

  /** undefined without the extension */
  get basicConstraints(): { ca: boolean; pathLength?: number } | undefined {
    const ext = this.extension(OIDS.basicConstraints);
    if (!ext) return undefined;
    let ca = false;
    let pathLength: number | undefined;
    for (const part of children(readOne(ext.value, TAG.sequence).body)) {
      if (part.tag === TAG.boolean) ca = part.body[0] !== 0;
      else if (part.tag === TAG.integer) pathLength = part.body.reduce((n, b) => n * 256 + b, 0);
    }
    return pathLength === undefined ? { ca } : { ca, pathLength };
  }

  /** KEY_USAGE flags, undefined without the extension */
  get keyUsage(): number | undefined {
    const ext = this.extension(OIDS.keyUsage);
    if (!ext) return undefined;
    const bits = bitStringBytes(readOne(ext.value, TAG.bitString).body);
    let flags = 0;
    // DER bit 0 is the most significant bit of the first byte
    for (let bit = 0; bit < bits.length * 8 && bit < 9; bit++) if (bits[bit >> 3] & (0x80 >> (bit & 7))) flags |= 1 << bit;
    return flags;
  }

  /** EKU OIDs, undefined without the extension */
  get extendedKeyUsage(): string[] | undefined {
    const ext = this.extension(OIDS.extKeyUsage);
    return ext ? children(readOne(ext.value, TAG.sequence).body).map((o) => readOid(expectTag(o, TAG.oid, "KeyPurposeId").body)) : undefined;
  }

  /** whether `issuer`'s key made this certificate's signature */
  verifiedBy(issuer: Certificate): Promise<boolean> {
    return verifySignature(issuer.publicKey, this.signatureAlgorithm, this.#tbs, this.#signature);
  }
}

/** throws SecurityError pem-invalid, as pem.ts's parseCertificate does, for anything unreadable */
export function parseCertificateDer(der: Uint8Array | ArrayBuffer): Certificate {
  try {
    return new Certificate(der instanceof Uint8Array ? der : new Uint8Array(der));
  } catch (cause) {
    throw new SecurityError("pem-invalid", "a CERTIFICATE block is not a valid X.509 certificate", { cause });
  }
}

/** our parse of any certificate object (an @peculiar/x509 one from the CA side, or ours) */
export function asCertificate(cert: CertificateLike): Certificate {
  return cert instanceof Certificate ? cert : parseCertificateDer(cert.rawData);
}

/** certificates in PEM order (leaf first, as cert-chain.pem has them) */
export function certificatesFromPemText(text: string): Certificate[] {
  return pemDecodeAll(text, "CERTIFICATE").map((der) => parseCertificateDer(der));
}

/**
 * The earliest notAfter (ms) of the certificates in PEM bundles, the first `skip` of the first
 * bundle left out (a chain's leaf); undefined when there are none or one cannot be read — for the
 * expiry metric only: the TLS library has already taken what it serves.
 */
export function earliestNotAfter(pems: readonly (string | undefined)[], skip = 0): number | undefined {
  try {
    const certs = pems.flatMap((pem, i) => (pem ? certificatesFromPemText(pem).slice(i === 0 ? skip : 0) : []));
    return certs.length ? Math.min(...certs.map((c) => c.notAfter.getTime())) : undefined;
  } catch {
    return undefined;
  }
}
