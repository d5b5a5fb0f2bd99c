// X-Forwarded-Client-Cert as an Istio sidecar sets it for its app (Envoy's SANITIZE_SET): whatever
// the client sent is dropped, and only a peer this proxy verified over mTLS is described —
// By (this workload's SPIFFE ID), Hash (SHA-256 of the peer's leaf, hex), Subject (empty: SVIDs
// have none) and URI (the peer's SPIFFE ID). A plaintext request reaches the app without one.
import type { PeerCertificate } from "../platform/index.ts";

export const XFCC = "x-forwarded-client-cert";

const hashes = new WeakMap<PeerCertificate, Promise<string>>();

/** hex SHA-256 of the leaf, once per connection (the PeerCertificate object lives as long as it) */
function certHash(peer: PeerCertificate): Promise<string> {
  let hash = hashes.get(peer);
  if (!hash) {
    hash = crypto.subtle.digest("SHA-256", peer.der as Uint8Array<ArrayBuffer>).then((d) => [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join(""));
    hashes.set(peer, hash);
  }
  return hash;
}

/** a value goes in as a quoted string when it has a separator in it (Envoy's rule) */
function quoted(value: string): string {
  return /[,;="]/.test(value) ? `"${value.replace(/["\\]/g, "\\$&")}"` : value;
}

export async function setXfcc(headers: Headers, peer: PeerCertificate | undefined, localId: string | undefined): Promise<void> {
  headers.delete(XFCC);
  if (!peer) return;
  const parts: string[] = [];
  if (localId) parts.push(`By=${quoted(localId)}`);
  parts.push(`Hash=${await certHash(peer)}`, 'Subject=""');
  for (const uri of peer.uris) parts.push(`URI=${quoted(uri)}`);
  headers.set(XFCC, parts.join(";"));
}
