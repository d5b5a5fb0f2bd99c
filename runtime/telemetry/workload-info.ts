// Who is on each end of a request, as Istio's metric labels need it: this proxy's workload, the
// peer's (from an endpoint's labels and identity) and the destination service. Derived once per
// endpoint or service object and frozen, so the metrics cache can key on object identity.

/** a workload as the metrics see it; missing fields become "unknown" as in Istio */
export interface WorkloadInfo {
  workload?: string;
  namespace?: string;
  app?: string;
  version?: string;
  /** SPIFFE ID: spiffe://cluster.local/ns/<ns>/sa/<sa> */
  principal?: string;
  /** Istio's cluster id (Kubernetes by default) */
  cluster?: string;
  /** default: app, then workload (Istio's service.istio.io/canonical-name fallback chain) */
  canonicalService?: string;
  /** default: version, then "latest" */
  canonicalRevision?: string;
}
export interface ServiceInfo {
  /** "reviews.default.svc.cluster.local" */
  host: string;
  /** "reviews" */
  name: string;
  namespace: string;
}
/** a peer nothing is known about (inbound without mTLS or peer metadata) */
export const UNKNOWN_PEER: WorkloadInfo = Object.freeze({});

/**
 * Peer info from an endpoint's labels and identity (Istio's label names), once per endpoint
 * object. The workload name is not in an endpoint's labels, so it stays "unknown" — as Istio
 * reports it when peer metadata is missing — unless the registry sets `workload`.
 */
const peers = new WeakMap<object, WorkloadInfo>();
export function peerFromEndpoint(endpoint: { labels: Readonly<Record<string, string>>; identity?: string; namespace?: string; workload?: string }): WorkloadInfo {
  let p = peers.get(endpoint);
  if (p) return p;
  const l = endpoint.labels;
  p = Object.freeze({
    workload: endpoint.workload,
    namespace: endpoint.namespace ?? /\/ns\/([^/]+)\//.exec(endpoint.identity ?? "")?.[1],
    app: l["app"] ?? l["app.kubernetes.io/name"],
    version: l["version"] ?? l["app.kubernetes.io/version"],
    principal: endpoint.identity,
    canonicalService: l["service.istio.io/canonical-name"],
    canonicalRevision: l["service.istio.io/canonical-revision"],
  });
  peers.set(endpoint, p);
  return p;
}

/** service labels from a registry service, once per service object */
const services = new WeakMap<object, ServiceInfo>();
export function serviceInfo(service: { hostname: string; namespace: string }): ServiceInfo {
  let s = services.get(service);
  if (!s) services.set(service, (s = Object.freeze({ host: service.hostname, name: service.hostname.split(".")[0], namespace: service.namespace })));
  return s;
}
