// X-Forwarded-Client-Cert as an Istio ingress gateway sets it: Istio configures the gateway's
// connection manager with SANITIZE_SET and Subject, Cert, URI and DNS details (its
// buildGatewayConnectionManager), so a client's own header is always dropped and, on a connection
// whose client certificate was verified (MUTUAL, OPTIONAL_MUTUAL with a certificate, ISTIO_MUTUAL),
// the upstream gets, in Envoy's order: By (the served certificate's URI SAN, when it has one —
// ISTIO_MUTUAL's SPIFFE ID), Hash (hex SHA-256 of the client's leaf), Cert (its PEM, URL-encoded),
// Subject (RFC 2253, last RDN first), URI (each URI SAN; "URI=" when none) and DNS (each DNS SAN).
import type { PeerCertificate } from "../platform/index.ts";
import { parseCertificateDer } from "./certificate.ts";
import { pemEncode } from "./pem-codec.ts";

export async function edgeXfccValue(peer: PeerCertificate): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", peer.der as Uint8Array<ArrayBuffer>));
  let hash = "";
  for (const b of digest) hash += b.toString(16).padStart(2, "0");
  const parts: string[] = [];
  if (peer.localUri) parts.push(`By=${peer.localUri}`);
  parts.push(`Hash=${hash}`, `Cert="${encodeURIComponent(pemEncode("CERTIFICATE", peer.der))}"`);
  let subject = "";
  let dns: string[] = [];
  let uris = peer.uris;
  try {
    const cert = parseCertificateDer(peer.der);
    subject = rfc2253(cert.subject);
    dns = cert.subjectAltNames.filter((n) => n.type === "dns").map((n) => n.value);
    uris = cert.subjectAltNames.filter((n) => n.type === "url").map((n) => n.value);
  } catch {
    // the TLS library accepted it and the verifier parsed it; a failure here leaves the fields empty
  }
  // as Envoy writes it (the RFC 2253 escapes kept); a quote inside is escaped so the value stays one field
  parts.push(`Subject="${subject.replace(/"/g, "\\\"")}"`);
  if (uris.length) for (const uri of uris) parts.push(`URI=${uri}`);
  else parts.push("URI=");
  for (const name of dns) parts.push(`DNS=${name}`);
  return parts.join(";");
}

/** certificate.ts's "CN=a, O=b" (certificate order) as RFC 2253 writes it: "O=b,CN=a" */
export function rfc2253(name: string): string {
  if (!name) return "";
  return name.split(/(?<!\\), /).reverse().join(",");
}
