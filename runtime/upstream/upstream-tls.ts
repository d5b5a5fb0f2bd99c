// Which upstream connections use mTLS, decided per cluster and host when the route table changes
// (never per request). Istio's rules: DestinationRule tls.mode ISTIO_MUTUAL → mTLS to every host,
// DISABLE → plaintext; no tls → auto mTLS (a tls without mode is refused at load: Istio would read
// it as DISABLE): for a MESH_INTERNAL service, mTLS to hosts that are in the mesh (a workload identity
// is known for them, or they carry Istio's label security.istio.io/tlsMode=istio) and plaintext to
// the rest. SIMPLE and MUTUAL: TLS origination to every host, with the DestinationRule's files or
// its credentialName, read per connection (security/credential-files.ts originationMaterial). The
// names the server's certificate must carry are checked by security/server-identity.ts: for mesh
// mTLS a SPIFFE ID the destination may have (the endpoint's identity, or tls.subjectAltNames when
// given; with neither, any identity of our trust domain), for origination tls.subjectAltNames or
// the SNI. tls.sni is the SNI mesh connections send (Istio's egress gateway picks its server by
// it); without it the runtime's default stays: the host when it is a name, none for an IP address.
import type { TlsCredentials } from "../platform/index.ts";
import type { ClientTLSSettings } from "../config/types.ts";
import type { TlsTarget } from "./http1/index.ts";
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { CredentialSource } from "../security/credential-source.ts";
import { originationMaterial } from "../security/credential-files.ts";
import { inTrustDomain, oneOf } from "../security/server-identity.ts";

export const TLS_MODE_LABEL = "security.istio.io/tlsMode";

export interface MeshTls {
  /** the workload's current credentials (null: none yet) */
  credentials(): TlsCredentials | null;
  trustDomain: string;
}

/** a workload with an identity or Istio's tlsMode label: auto mTLS and peer metadata go to it */
export function inMesh(host: UpstreamHost): boolean {
  return host.endpoint.identity !== undefined || host.endpoint.labels[TLS_MODE_LABEL] === "istio";
}

/** a host of the mesh that peer metadata is exchanged with: in the mesh, of a service that is not MESH_EXTERNAL (Istio's mesh) */
export function meshPeer(cluster: Cluster, host: UpstreamHost): boolean {
  return cluster.service.location !== "MESH_EXTERNAL" && inMesh(host);
}

/** address ("ip:port", IPv6 in brackets) → how to reach it over mTLS; absent = plaintext */
export function tlsTargets(cluster: Cluster, mesh: MeshTls | undefined, credentialSource?: CredentialSource): Map<string, TlsTarget> {
  const targets = new Map<string, TlsTarget>();
  const tls = cluster.policy.tls;
  const mode = tls?.mode;
  if (mode === "SIMPLE" || mode === "MUTUAL") {
    const target = originationTarget(tls!, cluster.service.hostname, credentialSource);
    for (const host of cluster.hosts) targets.set(host.address, target);
    return targets;
  }
  if (mode === "DISABLE") return targets;
  if (!mesh && mode !== "ISTIO_MUTUAL") return targets;
  // Istio turns auto mTLS off for a MESH_EXTERNAL service (a ServiceEntry's default location),
  // whatever its endpoints carry; only ISTIO_MUTUAL asks for mTLS to it
  if (mode !== "ISTIO_MUTUAL" && cluster.service.location === "MESH_EXTERNAL") return targets;
  const credentials = mesh ? mesh.credentials : () => null;
  const prefix = mesh ? `spiffe://${mesh.trustDomain}/` : "spiffe://";
  for (const host of cluster.hosts) {
    if (mode !== "ISTIO_MUTUAL" && !inMesh(host)) continue;
    const allowed = tls?.subjectAltNames?.length ? tls.subjectAltNames : host.endpoint.identity ? [host.endpoint.identity] : undefined;
    const verifyPeer = allowed ? oneOf(allowed) : inTrustDomain(prefix);
    targets.set(host.address, tls?.sni ? { credentials, verifyPeer, serverName: tls.sni } : { credentials, verifyPeer });
  }
  return targets;
}

const NO_MESH_CREDENTIALS = () => null;
const NOT_MESH = () => "not a mesh connection";

/** SIMPLE/MUTUAL: the material (security/credential-files.ts), SNI and the names to check */
function originationTarget(tls: ClientTLSSettings, hostname: string, credentials: CredentialSource | undefined): TlsTarget {
  return {
    credentials: NO_MESH_CREDENTIALS,
    verifyPeer: NOT_MESH,
    origination: {
      serverName: tls.sni || hostname,
      subjectAltNames: tls.subjectAltNames,
      insecureSkipVerify: tls.insecureSkipVerify === true,
      material: originationMaterial(tls, credentials),
    },
  };
}

/** the key tlsTargets() uses, from what a Connect receives */
export function addressKey(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
