// Verifying an X.509-SVID the way a peer will: a signature path to a root of the trust bundle,
// every certificate valid at the given time, the leaf following the SVID rules. The answer is the
// peer's SpiffeId, never a string, so authorization only ever sees a checked identity. It reads
// certificates with certificate.ts (no X.509 library in a serving proxy); @peculiar/x509 objects
// from the CA side are accepted too and read the same way from their DER.
import { SecurityError } from "./errors.ts";
import { asCertificate, certificatesFromPemText, KEY_USAGE, OIDS, type Certificate, type CertificateLike } from "./certificate.ts";
import { SpiffeId } from "./spiffe-id.ts";
import { nameConstraintsProblem, parseNameConstraints } from "./name-constraints.ts";
import type { Clock } from "../lib/clock.ts";

/** the roots one trust domain's SVIDs must chain to */
export interface TrustBundle<C extends CertificateLike = CertificateLike> {
  readonly trustDomain: string;
  readonly roots: readonly C[];
}

export interface VerifyOptions {
  clock: Pick<Clock, "now">;
  /** what the peer is using the certificate for; checked against EKU when given */
  purpose?: "serverAuth" | "clientAuth";
}

/** longer chains than this are refused rather than walked (a mesh has a root and maybe one layer) */
const MAX_DEPTH = 5;

/** `chain` is leaf first, then any intermediates (cert-chain.pem order); roots come from the bundle */
export async function verifySvid(chain: readonly CertificateLike[] | string, bundle: TrustBundle, options: VerifyOptions): Promise<SpiffeId> {
  const certs = typeof chain === "string" ? certificatesFromPemText(chain) : chain.map(asCertificate);
  const leaf = certs[0];
  if (!leaf) throw new SecurityError("svid-invalid", "no certificate presented");
  const id = svidIdentity(leaf);
  if (id.trustDomain !== bundle.trustDomain) {
    throw new SecurityError("chain-untrusted", `${id} is not in trust domain ${bundle.trustDomain}`);
  }
  if (options.purpose) checkPurpose(leaf, options.purpose);
  const at = options.clock.now();
  const path = await pathToRoot(leaf, certs.slice(1), bundle.roots.map(asCertificate), at);
  checkPath(path);
  return id;
}

/** the leaf's identity, after the X.509-SVID rules for a leaf; throws svid-invalid naming the rule */
export function svidIdentity(certificate: CertificateLike): SpiffeId {
  const leaf = asCertificate(certificate);
  const bad = (why: string): never => {
    throw new SecurityError("svid-invalid", `not an X.509-SVID leaf: ${why}`);
  };
  const uris = leaf.subjectAltNames.filter((n) => n.type === "url");
  if (uris.length !== 1) bad(`must have exactly one URI SAN, has ${uris.length}`);
  const parsed = SpiffeId.tryParse(uris[0].value);
  if (!parsed.ok) return bad(parsed.error.message);
  if (parsed.id.path === "") bad("the SPIFFE ID names a trust domain, not a workload");
  if (leaf.basicConstraints?.ca) bad("cA is true");
  const ku = leaf.keyUsage;
  if (ku === undefined || !(ku & KEY_USAGE.digitalSignature)) bad("key usage lacks digitalSignature");
  if (ku! & (KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)) bad("key usage has keyCertSign or cRLSign");
  return parsed.id;
}

function checkPurpose(leaf: Certificate, purpose: "serverAuth" | "clientAuth"): void {
  const eku = leaf.extendedKeyUsage;
  // no EKU means any use (RFC 5280); a listed EKU must include the one asked for
  if (eku && !eku.includes(OIDS[purpose])) {
    throw new SecurityError("svid-invalid", `extended key usage does not allow ${purpose}`);
  }
}

/** leaf first, the root last */
async function pathToRoot(leaf: Certificate, intermediates: readonly Certificate[], roots: readonly Certificate[], at: number): Promise<Certificate[]> {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    checkWindow(current, at);
    const root = await findIssuer(current, roots);
    if (root) {
      checkWindow(root, at);
      return [...path, root];
    }
    const next = await findIssuer(current, intermediates);
    if (!next || next === current) break;
    path.push(next);
    current = next;
  }
  throw new SecurityError("chain-untrusted", `no chain from ${leaf.subject || "the leaf"} (issuer ${leaf.issuer}) to a trusted root`);
}

/** the critical extensions this verifier acts on; any other critical one refuses the chain (RFC 5280 §4.2) */
const UNDERSTOOD = new Set<string>([OIDS.keyUsage, OIDS.subjectAltName, OIDS.basicConstraints, OIDS.nameConstraints, OIDS.extKeyUsage]);

/**
 * The rules that need the whole path, as RFC 5280 §6.1 processes it, on every certificate
 * including the root (as Go's verifier does): no critical extension we do not act on, each CA's
 * pathLenConstraint, and each CA's name constraints over the SANs of every certificate below it.
 * A chain with only a root and a leaf (the mesh's own CA) meets them trivially.
 */
function checkPath(path: readonly Certificate[]): void {
  const refuse = (cert: Certificate, why: string): never => {
    throw new SecurityError("chain-untrusted", `${cert.subject || "the leaf"}: ${why}`);
  };
  path.forEach((cert, index) => {
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.type));
    if (unknown) refuse(cert, `unknown critical extension ${unknown.type}`);
    if (index === 0) return;
    // the CAs between this one and the leaf (a self-issued one does not count)
    const below = path.slice(1, index).filter((c) => c.subject !== c.issuer).length;
    const pathLength = cert.basicConstraints?.pathLength;
    if (pathLength !== undefined && below > pathLength) refuse(cert, `pathLenConstraint ${pathLength} allows ${pathLength} intermediate CA(s) below it, the chain has ${below}`);
    const nc = cert.extension(OIDS.nameConstraints);
    if (!nc) return;
    let constraints;
    try {
      constraints = parseNameConstraints(new Uint8Array(nc.value));
    } catch (e) {
      return refuse(cert, `unreadable name constraints: ${(e as Error).message}`);
    }
    for (const subject of path.slice(0, index)) {
      const san = subject.subjectAltNames;
      const problem = nameConstraintsProblem(constraints, {
        uris: san.filter((n) => n.type === "url").map((n) => n.value),
        dns: san.filter((n) => n.type === "dns").map((n) => n.value),
      });
      if (problem) refuse(cert, `its name constraints refuse ${subject === path[0] ? "the leaf" : subject.subject}: ${problem}`);
    }
  });
}

/** a CA certificate whose name matches the issuer and whose key verifies the signature */
async function findIssuer(cert: Certificate, candidates: readonly Certificate[]): Promise<Certificate | undefined> {
  for (const candidate of candidates) {
    if (candidate.subject !== cert.issuer || !isSigningCa(candidate)) continue;
    const ok = await cert.verifiedBy(candidate);
    if (ok) return candidate;
  }
  return undefined;
}

function isSigningCa(cert: Certificate): boolean {
  if (!cert.basicConstraints?.ca) return false;
  const ku = cert.keyUsage;
  return ku === undefined || (ku & KEY_USAGE.keyCertSign) !== 0;
}

function checkWindow(cert: Certificate, at: number): void {
  if (at < cert.notBefore.getTime() || at > cert.notAfter.getTime()) {
    const who = cert.subject || "the leaf";
    throw new SecurityError("cert-expired", `${who} is valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not at ${new Date(at).toISOString()}`);
  }
}
