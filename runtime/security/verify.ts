// Verifying an X.509-SVID the way a peer will: a signature path to a root of the trust bundle,
// every certificate valid at the given time, the leaf following the SVID rules. The answer is the
// peer's SpiffeId, never a string, so authorization only ever sees a checked identity.
import { SecurityError } from "./errors.ts";
import { certificatesFromPem } from "./pem.ts";
import { SpiffeId } from "./spiffe-id.ts";
import { x509 } from "./x509-lib.ts";
import { nameConstraintsProblem, parseNameConstraints } from "./name-constraints.ts";
import type { X509Certificate } from "@peculiar/x509";
import type { Clock } from "../lib/clock.ts";

/** the roots one trust domain's SVIDs must chain to */
export interface TrustBundle {
  readonly trustDomain: string;
  readonly roots: readonly X509Certificate[];
}

export interface VerifyOptions {
  clock: Pick<Clock, "now">;
  /** what the peer is using the certificate for; checked against EKU when given */
  purpose?: "serverAuth" | "clientAuth";
}

/** longer chains than this are refused rather than walked (a mesh has a root and maybe one layer) */
const MAX_DEPTH = 5;

/** `chain` is leaf first, then any intermediates (cert-chain.pem order); roots come from the bundle */
export async function verifySvid(chain: readonly X509Certificate[] | string, bundle: TrustBundle, options: VerifyOptions): Promise<SpiffeId> {
  const certs = typeof chain === "string" ? certificatesFromPem(chain) : chain;
  const leaf = certs[0];
  if (!leaf) throw new SecurityError("svid-invalid", "no certificate presented");
  const id = svidIdentity(leaf);
  if (id.trustDomain !== bundle.trustDomain) {
    throw new SecurityError("chain-untrusted", `${id} is not in trust domain ${bundle.trustDomain}`);
  }
  if (options.purpose) checkPurpose(leaf, options.purpose);
  const at = options.clock.now();
  const path = await pathToRoot(leaf, certs.slice(1), bundle.roots, at);
  checkPath(path);
  return id;
}

/** the leaf's identity, after the X.509-SVID rules for a leaf; throws svid-invalid naming the rule */
export function svidIdentity(leaf: X509Certificate): SpiffeId {
  const bad = (why: string): never => {
    throw new SecurityError("svid-invalid", `not an X.509-SVID leaf: ${why}`);
  };
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === "url") : [];
  if (uris.length !== 1) bad(`must have exactly one URI SAN, has ${uris.length}`);
  const parsed = SpiffeId.tryParse(uris[0].value);
  if (!parsed.ok) return bad(parsed.error.message);
  if (parsed.id.path === "") bad("the SPIFFE ID names a trust domain, not a workload");
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) bad("cA is true");
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  if (!ku || !(ku.usages & x509.KeyUsageFlags.digitalSignature)) bad("key usage lacks digitalSignature");
  if (ku!.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) bad("key usage has keyCertSign or cRLSign");
  return parsed.id;
}

function checkPurpose(leaf: X509Certificate, purpose: "serverAuth" | "clientAuth"): void {
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  // no EKU means any use (RFC 5280); a listed EKU must include the one asked for
  if (eku && !eku.usages.includes(x509.ExtendedKeyUsage[purpose])) {
    throw new SecurityError("svid-invalid", `extended key usage does not allow ${purpose}`);
  }
}

/** leaf first, the root last */
async function pathToRoot(leaf: X509Certificate, intermediates: readonly X509Certificate[], roots: readonly X509Certificate[], at: number): Promise<X509Certificate[]> {
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

const OID = { keyUsage: "2.5.29.15", subjectAltName: "2.5.29.17", basicConstraints: "2.5.29.19", nameConstraints: "2.5.29.30", extKeyUsage: "2.5.29.37" };
/** the critical extensions this verifier acts on; any other critical one refuses the chain (RFC 5280 §4.2) */
const UNDERSTOOD = new Set(Object.values(OID));

/**
 * The rules that need the whole path, as RFC 5280 §6.1 processes it, on every certificate
 * including the root (as Go's verifier does): no critical extension we do not act on, each CA's
 * pathLenConstraint, and each CA's name constraints over the SANs of every certificate below it.
 * A chain with only a root and a leaf (the mesh's own CA) meets them trivially.
 */
function checkPath(path: readonly X509Certificate[]): void {
  const refuse = (cert: X509Certificate, why: string): never => {
    throw new SecurityError("chain-untrusted", `${cert.subject || "the leaf"}: ${why}`);
  };
  path.forEach((cert, index) => {
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.type));
    if (unknown) refuse(cert, `unknown critical extension ${unknown.type}`);
    if (index === 0) return;
    // the CAs between this one and the leaf (a self-issued one does not count)
    const below = path.slice(1, index).filter((c) => c.subject !== c.issuer).length;
    const pathLength = cert.getExtension(x509.BasicConstraintsExtension)?.pathLength;
    if (pathLength !== undefined && below > pathLength) refuse(cert, `pathLenConstraint ${pathLength} allows ${pathLength} intermediate CA(s) below it, the chain has ${below}`);
    const nc = cert.extensions.find((e) => e.type === OID.nameConstraints);
    if (!nc) return;
    let constraints;
    try {
      constraints = parseNameConstraints(new Uint8Array(nc.value));
    } catch (e) {
      return refuse(cert, `unreadable name constraints: ${(e as Error).message}`);
    }
    for (const subject of path.slice(0, index)) {
      const san = subject.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
      const problem = nameConstraintsProblem(constraints, {
        uris: san.filter((n) => n.type === "url").map((n) => n.value),
        dns: san.filter((n) => n.type === "dns").map((n) => n.value),
      });
      if (problem) refuse(cert, `its name constraints refuse ${subject === path[0] ? "the leaf" : subject.subject}: ${problem}`);
    }
  });
}

/** a CA certificate whose name matches the issuer and whose key verifies the signature */
async function findIssuer(cert: X509Certificate, candidates: readonly X509Certificate[]): Promise<X509Certificate | undefined> {
  for (const candidate of candidates) {
    if (candidate.subject !== cert.issuer || !isSigningCa(candidate)) continue;
    const ok = await cert.verify({ publicKey: candidate.publicKey, signatureOnly: true }).catch(() => false);
    if (ok) return candidate;
  }
  return undefined;
}

function isSigningCa(cert: X509Certificate): boolean {
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) return false;
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  return !ku || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
}

function checkWindow(cert: X509Certificate, at: number): void {
  if (at < cert.notBefore.getTime() || at > cert.notAfter.getTime()) {
    const who = cert.subject || "the leaf";
    throw new SecurityError("cert-expired", `${who} is valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}, not at ${new Date(at).toISOString()}`);
  }
}
