// Who called, as the destination side's metrics need it (Istio's peer metadata exchange): a proxy
// sends its own workload, namespace, app and version to upstreams in the mesh in one request
// header, and the receiving proxy reads it — only on an mTLS connection, whose certificate also
// gives the caller's principal — then removes it before the request reaches the app. Without it,
// every source_* label on the destination side is "unknown" and Istio's dashboards lose the caller.
// The header is dietmesh's own (Envoy's x-envoy-peer-metadata is a protobuf Struct a dietmesh
// proxy does not speak); a client-sent one never passes a proxy (the router sets or removes it).
import type { WorkloadInfo } from "./workload-info.ts";

export const PEER_METADATA_HEADER = "x-dietmesh-peer-metadata";

const FIELDS = ["workload", "namespace", "app", "version", "cluster", "canonicalService", "canonicalRevision"] as const;

/** "workload=a-v1;namespace=default;app=a;version=v1": this proxy's, once at start */
export function encodePeerMetadata(self: WorkloadInfo): string {
  return FIELDS.filter((f) => self[f]).map((f) => `${f}=${encodeURIComponent(self[f]!)}`).join(";");
}

/** bounded: a peer sending ever-changing values cannot grow memory or metric series without limit */
const MAX_PEERS = 1024;
let peerCount = 0;
/**
 * principal → header ("" for none) → the peer. Two lookups and no key built: the principal is the
 * connection's own string (its hash kept), and a joined "principal|header" key was a new string to
 * build and hash on every request.
 */
const peers = new Map<string, Map<string, WorkloadInfo>>();
const last: { principal: string; header: string | null; peer: WorkloadInfo | undefined } = { principal: "", header: null, peer: undefined };

function remember(principal: string, header: string | null, peer: WorkloadInfo): WorkloadInfo {
  last.principal = principal;
  last.header = header;
  last.peer = peer;
  return peer;
}

/**
 * The caller for the metrics: its principal from the mTLS certificate, the rest from its metadata
 * header. Frozen and shared per distinct (principal, header), so the metrics cache keys on it.
 */
export function peerFromMetadata(principal: string, header: string | null): WorkloadInfo {
  // the caller of the last request, compared without hashing the header: a sidecar's requests
  // mostly come from the same few callers in turn
  if (last.peer !== undefined && principal === last.principal && header === last.header) return last.peer;
  let byHeader = peers.get(principal);
  let peer = byHeader?.get(header ?? "");
  if (peer) return remember(principal, header, peer);
  const info: WorkloadInfo = { principal, namespace: /\/ns\/([^/]+)\//.exec(principal)?.[1] };
  if (header && peerCount < MAX_PEERS) {
    for (const pair of header.split(";")) {
      const eq = pair.indexOf("=");
      const field = pair.slice(0, eq) as (typeof FIELDS)[number];
      // the certificate's namespace wins over what the header claims
      if (eq > 0 && FIELDS.includes(field) && !(field === "namespace" && info.namespace)) {
        try {
          info[field] = decodeURIComponent(pair.slice(eq + 1));
        } catch {
          // a malformed value is left out, as if not sent
        }
      }
    }
  }
  peer = Object.freeze(info);
  if (peerCount < MAX_PEERS) {
    if (!byHeader) peers.set(principal, (byHeader = new Map()));
    byHeader.set(header ?? "", peer);
    peerCount++;
  }
  return remember(principal, header, peer);
}
