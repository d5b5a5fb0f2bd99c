// The dashboard's raw input: one proxy's cumulative numbers at one moment, compact enough to send
// between proxies as JSON (GET /dashboard/reading.json). Request counts and duration buckets come
// from the Prometheus exposition (the same numbers a scrape sees, reduced to the labels a graph
// needs); breaker and ejection state from live cluster state. Rates are not here: they are deltas
// between two readings (dashboard-snapshot.ts).

export type NodeKind = "gateway" | "service" | "unknown";

/** a node of the graph: a source workload, the gateway, or a destination service */
export interface NodeRef {
  /** "svc:<name>.<namespace>", or "unknown" */
  id: string;
  name: string;
  namespace: string;
  kind: NodeKind;
}

export type Security = "mutual_tls" | "none" | "unknown";

/** one (reporter, source, destination service, version, security) group, summed over codes */
export interface EdgeReading {
  reporter: "source" | "destination";
  from: NodeRef;
  to: NodeRef;
  version: string;
  security: Security;
  requests: number;
  /** responses with a 5xx code */
  errors: number;
  /** cumulative duration counts at each of the reading's `bounds`, then the +Inf count */
  buckets: number[];
}

/** one upstream cluster's breaker and outlier state, as /clusters shows it */
export interface ClusterReading {
  /** the destination node id (same rule as the metrics' destination_service_name) */
  service: string;
  subset?: string;
  /** 503 UO answers so far */
  overflows: number;
  active: number;
  /** http2MaxRequests; null = unlimited */
  maxRequests: number | null;
  connections: number;
  maxConnections: number | null;
  pending: number;
  maxPending: number | null;
  hosts: { address: string; version: string; ejected: boolean }[];
}

export interface Reading {
  /** who took it: "local" or a peer's admin address */
  origin: string;
  /** the proxy that took it; the source of its own source-reported requests */
  self: NodeRef;
  /** ms, the reading proxy's clock */
  at: number;
  /** the duration histogram's finite bucket bounds (ms) */
  bounds: number[];
  edges: EdgeReading[];
  clusters: ClusterReading[];
}

/** what a proxy knows about a cluster; runtime/admin/dashboard-routes.ts builds it */
export interface ClusterView {
  hostname: string;
  namespace: string;
  subset?: string;
  overflows: number;
  active: number;
  maxRequests: number;
  connections: number;
  maxConnections: number;
  pending: number;
  maxPending: number;
  hosts: { address: string; labels: Readonly<Record<string, string>>; ejected: boolean }[];
}

const UNKNOWN = "unknown";
export const UNKNOWN_NODE: NodeRef = Object.freeze({ id: UNKNOWN, name: UNKNOWN, namespace: UNKNOWN, kind: "unknown" });

export function serviceNode(name: string, namespace: string, kind: NodeKind = "service"): NodeRef {
  if (!name || name === UNKNOWN) return UNKNOWN_NODE;
  return { id: `svc:${name}.${namespace}`, name, namespace, kind };
}

/** this proxy as a node: its app label, else (a gateway) Istio's deployment name */
export function selfNode(kind: "gateway" | "sidecar", namespace: string, labels: Readonly<Record<string, string>>): NodeRef {
  const app = labels.app ?? labels["app.kubernetes.io/name"];
  const name = app ?? (kind === "gateway" ? (labels.istio ? `istio-${labels.istio}` : "gateway") : "sidecar");
  return serviceNode(name, namespace, kind === "gateway" ? "gateway" : "service");
}

const finite = (n: number) => (Number.isFinite(n) ? n : null);

/** label pairs of one exposition line from `{`; only what the graph needs is kept */
function labelsOf(line: string, at: number): Map<string, string> {
  const out = new Map<string, string>();
  let i = at + 1;
  while (i < line.length && line[i] !== "}") {
    const eq = line.indexOf('="', i);
    if (eq === -1) break;
    const name = line.slice(i, eq);
    let j = eq + 2;
    let value = "";
    while (j < line.length && line[j] !== '"') {
      if (line[j] === "\\") {
        const e = line[++j];
        value += e === "n" ? "\n" : e;
      } else value += line[j];
      j++;
    }
    out.set(name, value);
    i = line[j + 1] === "," ? j + 2 : j + 1;
  }
  return out;
}

const REQUESTS = "istio_requests_total{";
const BUCKETS = "istio_request_duration_milliseconds_bucket{";

/**
 * Reduces a Prometheus exposition (as /stats/prometheus serves it) and the cluster views to a
 * Reading. Only two families are read; every other line is skipped by its first characters.
 */
export function readingFromExposition(text: string, options: { origin?: string; self: NodeRef; at: number; clusters: Iterable<ClusterView> }): Reading {
  const edges = new Map<string, EdgeReading>();
  const bounds: number[] = [];
  let boundsDone = false;
  let lastKey = "";
  let pos = 0;

  const edgeOf = (l: Map<string, string>): EdgeReading => {
    const reporter = l.get("reporter") === "destination" ? "destination" : "source";
    const sourceName = l.get("source_canonical_service") ?? UNKNOWN;
    const from = sourceName !== UNKNOWN
      ? serviceNode(sourceName, l.get("source_workload_namespace") ?? UNKNOWN)
      : reporter === "source" ? options.self : UNKNOWN_NODE;
    const byService = l.get("destination_service_name") ?? UNKNOWN;
    // the inbound side may not know the service, only its own workload's canonical service
    const to = byService !== UNKNOWN
      ? serviceNode(byService, l.get("destination_service_namespace") ?? UNKNOWN)
      : serviceNode(l.get("destination_canonical_service") ?? UNKNOWN, l.get("destination_workload_namespace") ?? UNKNOWN);
    const version = l.get("destination_version") ?? UNKNOWN;
    const sec = l.get("connection_security_policy");
    const security: Security = sec === "mutual_tls" || sec === "none" ? sec : "unknown";
    const key = `${reporter}|${from.id}|${to.id}|${version}|${security}`;
    let e = edges.get(key);
    if (!e) edges.set(key, (e = { reporter, from, to, version, security, requests: 0, errors: 0, buckets: [] }));
    return e;
  };

  for (const line of text.split("\n")) {
    if (line.startsWith(REQUESTS)) {
      const close = line.lastIndexOf("} ");
      const l = labelsOf(line, REQUESTS.length - 1);
      const n = Number(line.slice(close + 2)) || 0;
      const e = edgeOf(l);
      e.requests += n;
      if (Number(l.get("response_code")) >= 500) e.errors += n;
    } else if (line.startsWith(BUCKETS)) {
      const close = line.lastIndexOf("} ");
      const l = labelsOf(line, BUCKETS.length - 1);
      const le = l.get("le") ?? "+Inf";
      l.delete("le");
      // a series' buckets are consecutive lines: its position restarts at its first bucket
      const seriesKey = line.slice(0, line.lastIndexOf(",le="));
      if (seriesKey !== lastKey) {
        if (lastKey) boundsDone = true;
        lastKey = seriesKey;
        pos = 0;
      }
      if (!boundsDone && le !== "+Inf") bounds.push(Number(le));
      const e = edgeOf(l);
      e.buckets[pos] = (e.buckets[pos] ?? 0) + (Number(line.slice(close + 2)) || 0);
      pos++;
    }
  }

  const clusters: ClusterReading[] = [];
  for (const c of options.clusters) {
    const node = serviceNode(c.hostname.split(".")[0], c.namespace);
    clusters.push({
      service: node.id,
      subset: c.subset,
      overflows: c.overflows,
      active: c.active,
      maxRequests: finite(c.maxRequests),
      connections: c.connections,
      maxConnections: finite(c.maxConnections),
      pending: c.pending,
      maxPending: finite(c.maxPending),
      hosts: c.hosts.map((h) => ({ address: h.address, version: h.labels.version ?? h.labels["app.kubernetes.io/version"] ?? UNKNOWN, ejected: h.ejected })),
    });
  }
  return { origin: options.origin ?? "local", self: options.self, at: options.at, bounds, edges: [...edges.values()], clusters };
}
