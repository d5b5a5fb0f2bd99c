// Checks the certificate a client presents to a gateway server with tls.mode MUTUAL,
// OPTIONAL_MUTUAL or ISTIO_MUTUAL, as Envoy's downstream validation context does for the settings
// Istio gives it: signed by a certificate of caCertificates (every certificate in that file is a
// trust anchor), valid now, clientAuth allowed by its EKU (when it has one), and — when the server
// lists them — a SAN equal to one of subjectAltNames, and a SHA-256 of its DER in
// verifyCertificateHash or of its public key in verifyCertificateSpki (the two lists are one
// allow-list: matching either is enough). The TLS library checks the chain in the handshake too;
// this runs after it on both runtimes, because Deno's node:tls server lets an untrusted client
// certificate through its handshake, and it is where the SAN and pin rules live.
import type { Clock } from "../lib/clock.ts";
import { certificatesFromPemText, KEY_USAGE, OIDS, parseCertificateDer, type Certificate } from "./certificate.ts";

export interface ClientCertificateRules {
  /** PEM: the certificates a client certificate must be signed by */
  caPem: string;
  subjectAltNames?: readonly string[];
  verifyCertificateSpki?: readonly string[];
  verifyCertificateHash?: readonly string[];
}

/** null: accepted; else why not */
export type ClientCertificateCheck = (leafDer: Uint8Array) => Promise<string | null>;

/** throws when caPem holds no certificate (the server is then refused as misconfigured) */
export function clientCertificateVerifier(rules: ClientCertificateRules, clock: Pick<Clock, "now">): ClientCertificateCheck {
  const anchors = certificatesFromPemText(rules.caPem).filter(isSigningCa);
  if (!anchors.length) throw new Error("the CA certificates hold no CA certificate");
  const sans = rules.subjectAltNames?.length ? rules.subjectAltNames.map((s) => s.toLowerCase()) : undefined;
  const hashes = new Set((rules.verifyCertificateHash ?? []).map(normalizeHash));
  const spkis = new Set(rules.verifyCertificateSpki ?? []);
  const pinned = hashes.size > 0 || spkis.size > 0;
  // certificate hash → until when it stays accepted (its notAfter); refusals are not cached
  const accepted = new Map<string, number>();

  return async (leafDer) => {
    const hash = await sha256(leafDer);
    const hashHex = hex(hash);
    const until = accepted.get(hashHex);
    const now = clock.now();
    if (until !== undefined && now <= until) return null;
    let leaf: Certificate;
    try {
      leaf = parseCertificateDer(leafDer);
    } catch (error) {
      return (error as Error).message;
    }
    if (now < leaf.notBefore.getTime() || now > leaf.notAfter.getTime()) return `the certificate is valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}`;
    const eku = leaf.extendedKeyUsage;
    if (eku && !eku.includes(OIDS.clientAuth) && !eku.includes(ANY_EKU)) return "its extended key usage does not allow clientAuth";
    let signer: Certificate | undefined;
    for (const ca of anchors) {
      if (ca.subject === leaf.issuer && (await leaf.verifiedBy(ca))) {
        signer = ca;
        break;
      }
    }
    if (!signer) return `${leaf.subject || "the certificate"} (issuer ${leaf.issuer}) is not signed by a certificate of caCertificates`;
    if (now < signer.notBefore.getTime() || now > signer.notAfter.getTime()) return `its CA ${signer.subject} is not valid now`;
    if (sans && !leaf.subjectAltNames.some((n) => sanMatches(n.type, n.value, sans))) return `no subject alternative name of the certificate is in subjectAltNames (${sans.join(", ")})`;
    if (pinned && !hashes.has(hashHex) && !spkis.has(base64(await sha256(leaf.publicKey)))) return "the certificate matches neither verifyCertificateHash nor verifyCertificateSpki";
    if (accepted.size >= 4096) accepted.clear();
    accepted.set(hashHex, leaf.notAfter.getTime());
    return null;
  };
}

const ANY_EKU = "2.5.29.37.0";

function isSigningCa(cert: Certificate): boolean {
  if (!cert.basicConstraints?.ca) return false;
  const ku = cert.keyUsage;
  return ku === undefined || (ku & KEY_USAGE.keyCertSign) !== 0;
}

/** one SAN of the certificate against the configured names (exact; a "*." DNS SAN covers one label, as Envoy's DNS match) */
function sanMatches(type: string, value: string, wanted: readonly string[]): boolean {
  if (type !== "dns" && type !== "url" && type !== "email" && type !== "ip") return false;
  const v = value.toLowerCase();
  if (wanted.includes(v)) return true;
  if (type !== "dns" || !v.startsWith("*.")) return false;
  const suffix = v.slice(1);
  return wanted.some((w) => w.endsWith(suffix) && w.length > suffix.length && !w.slice(0, -suffix.length).includes("."));
}

/** "DF:6F:…" or "df6f…" → lower-case hex without colons (Envoy takes both) */
export function normalizeHash(text: string): string {
  return text.replace(/:/g, "").toLowerCase();
}

/** whether text is a SHA-256 hash as verifyCertificateHash takes it */
export function isCertificateHash(text: string): boolean {
  return /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31})$/.test(text);
}

/** whether text is a base64 SHA-256 as verifyCertificateSpki takes it */
export function isSpkiHash(text: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(text);
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
