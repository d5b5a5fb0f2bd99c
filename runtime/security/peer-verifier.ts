// Verifies a client certificate presented on an mTLS port ourselves, after the TLS library has:
// Deno's node:tls server does not refuse an untrusted client certificate (a self-signed one, or
// one from another CA, gets through its handshake), so the listener hands every peer leaf here.
// The check is verify.ts's (chain to a root we trust, validity now, SVID rules, clientAuth), and a
// result is cached per certificate so a client that reconnects costs one hash, not a signature check.
import type { TlsCredentials } from "../platform/index.ts";
import type { Clock } from "../lib/clock.ts";
import { certificatesFromPemText, parseCertificateDer } from "./certificate.ts";
import { svidIdentity, verifySvid, type TrustBundle } from "./verify.ts";

const CACHE_LIMIT = 4096;

export type PeerVerifier = (leafDer: Uint8Array) => Promise<string | null>;

export function createPeerVerifier(credentials: () => TlsCredentials | null, clock: Pick<Clock, "now">): PeerVerifier {
  const bundles = new WeakMap<TlsCredentials, X509Roots>();
  // certificate hash → when the "ok" verdict stops holding (its notAfter); failures are not cached
  const verified = new Map<string, number>();
  return async (leafDer) => {
    const current = credentials();
    if (!current) return "this workload has no trust bundle yet";
    let roots = bundles.get(current);
    if (!roots) {
      roots = certificatesFromPemText(current.rootCertsPem);
      bundles.set(current, roots);
    }
    const key = await hash(leafDer);
    const until = verified.get(key);
    if (until !== undefined && clock.now() < until) return null;
    try {
      const leaf = parseCertificateDer(leafDer);
      const bundle: TrustBundle = { trustDomain: svidIdentity(leaf).trustDomain, roots };
      await verifySvid([leaf], bundle, { clock, purpose: "clientAuth" });
      if (verified.size >= CACHE_LIMIT) verified.clear();
      verified.set(key, leaf.notAfter.getTime());
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  };
}

type X509Roots = ReturnType<typeof certificatesFromPemText>;

async function hash(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der as Uint8Array<ArrayBuffer>));
  let out = "";
  for (const b of digest) out += b.toString(16).padStart(2, "0");
  return out;
}
