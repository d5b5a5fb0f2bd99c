// Which server a client connection accepts, by the names on the server's certificate (the chain
// itself is the TLS library's check). Mesh mTLS: exactly one SPIFFE ID, one of the destination's
// (the endpoint's identity or the DestinationRule's subjectAltNames), else any of our trust domain.
// TLS origination (DestinationRule SIMPLE/MUTUAL): with subjectAltNames, one of them as a DNS or URI
// SAN; without, the SNI by the host-name rules (the runtime's own check, passed in);
// insecureSkipVerify: no check. The platform's TLS transports call these from their hooks.

/** null when the server's URI SANs are acceptable, else why not */
export type PeerCheck = (uris: string[]) => string | null;

export function oneOf(allowed: readonly string[]): PeerCheck {
  return (uris) => (uris.length === 1 && allowed.includes(uris[0]) ? null : `server identity ${uris.join(",") || "(none)"} is not one of ${allowed.join(", ")}`);
}

export function inTrustDomain(prefix: string): PeerCheck {
  return (uris) => (uris.length === 1 && uris[0].startsWith(prefix) ? null : `server identity ${uris.join(",") || "(none)"} is not a SPIFFE ID under ${prefix}`);
}

/** an origination connection's name rules (platform/http1/tls-transport.ts OriginationTls) */
export interface OriginationNames {
  serverName: string;
  subjectAltNames?: readonly string[];
  insecureSkipVerify: boolean;
}

/**
 * undefined when the certificate is acceptable, else why not. sanText: its SANs as the TLS library
 * prints them ("DNS:a, URI:b"); hostNameCheck: the runtime's check of a host name against it.
 */
export function originationNameProblem(rules: OriginationNames, sanText: string | undefined, hostNameCheck: (name: string) => Error | undefined): Error | undefined {
  if (rules.insecureSkipVerify) return undefined;
  if (!rules.subjectAltNames?.length) return hostNameCheck(rules.serverName);
  const names = rules.subjectAltNames;
  const sans = (sanText ?? "").split(",").map((s) => s.trim().replace(/^(DNS|URI):/, ""));
  return names.some((name) => sans.includes(name)) ? undefined : new Error(`server certificate SANs ${sans.join(", ") || "(none)"} include none of ${names.join(", ")}`);
}
