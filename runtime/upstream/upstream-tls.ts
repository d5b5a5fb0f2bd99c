// Which upstream connections use mTLS, decided per cluster and host when the route table changes
// (never per request). Istio's rules: DestinationRule tls.mode ISTIO_MUTUAL → mTLS to every host,
// DISABLE → plaintext; no mode → auto mTLS: mTLS to hosts that are in the mesh (a workload identity
// is known for them, or they carry Istio's label security.istio.io/tlsMode=istio) and plaintext to
// the rest. SIMPLE and MUTUAL (TLS origination with files) are not supported: plaintext, and
// `check` says so. The server must present a certificate chaining to our roots whose SPIFFE ID is
// one the destination may have: the endpoint's identity, or tls.subjectAltNames when given; with
// neither, any identity of our trust domain.
import type { TlsCredentials } from "../platform/index.ts";
import type { TlsTarget } from "./http1/index.ts";
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";

export const TLS_MODE_LABEL = "security.istio.io/tlsMode";

export interface MeshTls {
  /** the workload's current credentials (null: none yet) */
  credentials(): TlsCredentials | null;
  trustDomain: string;
}

function inMesh(host: UpstreamHost): boolean {
  return host.endpoint.identity !== undefined || host.endpoint.labels[TLS_MODE_LABEL] === "istio";
}

/** address ("ip:port", IPv6 in brackets) → how to reach it over mTLS; absent = plaintext */
export function tlsTargets(cluster: Cluster, mesh: MeshTls | undefined): Map<string, TlsTarget> {
  const targets = new Map<string, TlsTarget>();
  const tls = cluster.policy.tls;
  const mode = tls?.mode;
  if (mode === "DISABLE" || mode === "SIMPLE" || mode === "MUTUAL") return targets;
  if (!mesh && mode !== "ISTIO_MUTUAL") return targets;
  const credentials = mesh ? mesh.credentials : () => null;
  const prefix = mesh ? `spiffe://${mesh.trustDomain}/` : "spiffe://";
  for (const host of cluster.hosts) {
    if (mode !== "ISTIO_MUTUAL" && !inMesh(host)) continue;
    const allowed = tls?.subjectAltNames?.length ? tls.subjectAltNames : host.endpoint.identity ? [host.endpoint.identity] : undefined;
    targets.set(host.address, { credentials, verifyPeer: allowed ? oneOf(allowed) : inTrustDomain(prefix) });
  }
  return targets;
}

function oneOf(allowed: readonly string[]): TlsTarget["verifyPeer"] {
  return (uris) => (uris.length === 1 && allowed.includes(uris[0]) ? null : `server identity ${uris.join(",") || "(none)"} is not one of ${allowed.join(", ")}`);
}

function inTrustDomain(prefix: string): TlsTarget["verifyPeer"] {
  return (uris) => (uris.length === 1 && uris[0].startsWith(prefix) ? null : `server identity ${uris.join(",") || "(none)"} is not a SPIFFE ID under ${prefix}`);
}

/** the key tlsTargets() uses, from what a Connect receives */
export function addressKey(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
