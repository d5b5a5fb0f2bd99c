// A workload's identity while it runs: a key made here (it never leaves the process), a CSR sent
// to a signer (the local CA in-process, or `dietmesh ca serve` over HTTPS), the certificate it
// gets checked against the roots it trusts, and renewal at ~50 % of the life. Listeners and the
// upstream client call current() for every new connection, so a renewal is a reference swap:
// connections already open finish on the old certificate, new ones use the new one, and no
// request fails during the switch.
import type { TlsCredentials } from "../platform/index.ts";
import type { Clock } from "../lib/clock.ts";
import { SecurityError } from "./errors.ts";
import { createCsrPem, generateWorkloadKey, privateKeyToPem } from "./keys.ts";
import { certificatesFromPemText } from "./certificate.ts";
import { startRenewal, type RenewalEvent, type RenewalScheduler } from "./rotation.ts";
import type { SpiffeId } from "./spiffe-id.ts";
import { svidIdentity, verifySvid } from "./verify.ts";

/** what a CA answers to a CSR */
export interface SignedCertificate {
  certChainPem: string;
  rootCertPem: string;
}

/** sends a CSR (PEM) to a CA; the CA decides the identity */
export type CsrSigner = (csrPem: string, ttlMs: number | undefined) => Promise<SignedCertificate>;

export interface IdentityInfo {
  spiffeId: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  renewals: number;
}

export interface WorkloadIdentity {
  readonly spiffeId: SpiffeId;
  /** the credentials for a new connection */
  current(): TlsCredentials;
  info(): IdentityInfo;
  stop(): void;
}

export interface IdentityOptions {
  signer: CsrSigner;
  clock: Clock;
  random?: () => number;
  /** asked of the CA; it may grant less */
  ttlMs?: number;
  /** the identity the caller expects (a CA answering with another one is refused) */
  expect?: SpiffeId;
  onEvent?: (event: RenewalEvent) => void;
  /** each new certificate, after it is in use */
  onRenewed?: (info: IdentityInfo) => void;
}

interface Issued {
  credentials: TlsCredentials;
  spiffeId: SpiffeId;
  serial: string;
  notBefore: number;
  notAfter: number;
}

async function obtain(options: IdentityOptions): Promise<Issued> {
  const keys = await generateWorkloadKey();
  const csr = await createCsrPem(keys, options.expect);
  const signed = await options.signer(csr, options.ttlMs);
  const chain = certificatesFromPemText(signed.certChainPem);
  const roots = certificatesFromPemText(signed.rootCertPem);
  if (!chain.length || !roots.length) throw new SecurityError("svid-invalid", "the CA answered without a certificate chain or root");
  // what peers will check, checked first here: a bad answer is never put in service
  const spiffeId = await verifySvid(chain, { trustDomain: svidIdentity(chain[0]).trustDomain, roots }, { clock: options.clock });
  if (options.expect && spiffeId.toString() !== options.expect.toString()) {
    throw new SecurityError("svid-invalid", `the CA issued ${spiffeId}, expected ${options.expect}`);
  }
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const certKey = chain[0].publicKey;
  if (!sameBytes(publicKey, certKey)) throw new SecurityError("svid-invalid", "the CA's certificate is not for the key this workload made");
  return {
    credentials: { certChainPem: signed.certChainPem, keyPem: await privateKeyToPem(keys.privateKey), rootCertsPem: signed.rootCertPem },
    spiffeId,
    serial: chain[0].serialNumber,
    notBefore: chain[0].notBefore.getTime(),
    notAfter: chain[0].notAfter.getTime(),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function startWorkloadIdentity(options: IdentityOptions): Promise<WorkloadIdentity> {
  let issued = await obtain(options);
  let renewals = 0;
  const info = (): IdentityInfo => ({ spiffeId: issued.spiffeId.toString(), serial: issued.serial, notBefore: issued.notBefore, notAfter: issued.notAfter, renewals });
  // the life counted for renewal starts when the certificate was issued, not at its back-dated
  // notBefore (5 minutes of clock-skew allowance would otherwise dominate a short TTL)
  const life = (cert: Issued, at: number) => ({ notBefore: Math.max(cert.notBefore, Math.min(at, cert.notAfter)), notAfter: cert.notAfter });
  const scheduler: RenewalScheduler = startRenewal(life(issued, options.clock.now()), {
    clock: options.clock,
    random: options.random,
    onEvent: options.onEvent,
    async renew() {
      const next = await obtain({ ...options, expect: issued.spiffeId });
      issued = next;
      renewals++;
      options.onRenewed?.(info());
      return life(next, options.clock.now());
    },
  });
  return {
    get spiffeId() {
      return issued.spiffeId;
    },
    current: () => issued.credentials,
    info,
    stop: () => scheduler.stop(),
  };
}
