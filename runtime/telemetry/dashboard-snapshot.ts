// What the dashboard draws, computed from two samples of readings (one per proxy read): request
// rate and 5xx share from counter deltas, p99 from the duration buckets' deltas, each version's
// share of a service's traffic, breaker and ejection state, and mTLS as the server side saw it.
// Pure: the caller supplies the samples (and so the clock), which is what the unit test does.
import { UNKNOWN_NODE, type ClusterReading, type EdgeReading, type NodeRef, type Reading, type Security } from "./dashboard-reading.ts";

/** one moment: a reading per origin (the local proxy, then its peers) */
export interface Sample {
  readings: Reading[];
  /** origins whose reading failed this time; their last good reading is reused */
  failed?: Record<string, string>;
}

export type Mtls = Security | "mixed";

export interface Rates {
  /** cumulative requests */
  requests: number;
  /** per second over the window */
  rps: number;
  /** 5xx share over the window; null without traffic in it */
  errorRate: number | null;
  /** ms, from the window's duration buckets; null without traffic in it */
  p99: number | null;
}

export interface VersionStat extends Rates {
  version: string;
  /** share of the service's traffic: over the window, or over all time when the window is idle */
  share: number | null;
  ejected: number;
  hosts: number;
}

export interface BreakerStat {
  overflows: number;
  overflowRate: number;
  /** highest of in-flight/http2MaxRequests, connections/maxConnections, pending/maxPending */
  saturation: number | null;
  active: number;
  pending: number;
  connections: number;
  ejected: number;
  hosts: number;
}

export interface NodeStat extends NodeRef {
  /** traffic into the node */
  in: Rates;
  /** requests per second the node sends */
  outRps: number;
  versions: VersionStat[];
  /** inbound security as the node's own sidecar reported it */
  mtls: Mtls;
  breaker: BreakerStat | null;
}

export interface EdgeStat extends Rates {
  from: string;
  to: string;
  reporter: "source" | "destination";
  mtls: Mtls;
}

export interface Snapshot {
  at: number;
  windowSeconds: number;
  self: NodeRef;
  sources: { origin: string; name: string; ok: boolean; error?: string }[];
  nodes: NodeStat[];
  edges: EdgeStat[];
  totals: Rates;
}

/** histogram_quantile's rule: linear within the bucket; past the last finite bound, that bound */
export function quantileFromBuckets(q: number, bounds: readonly number[], buckets: readonly number[]): number | null {
  const total = buckets[bounds.length] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if ((buckets[i] ?? 0) < rank) continue;
    const lower = i === 0 ? 0 : bounds[i - 1];
    const below = i === 0 ? 0 : buckets[i - 1];
    const inBucket = buckets[i] - below;
    return inBucket > 0 ? lower + ((bounds[i] - lower) * (rank - below)) / inBucket : bounds[i];
  }
  return bounds.length ? bounds[bounds.length - 1] : null;
}

/** a counter's increase; a smaller value means the process restarted, so it counts from zero */
const increase = (now: number, before: number | undefined) => (before === undefined || now < before ? now : now - before);

/** sums over a group of edges: totals, window deltas, security mix */
class Acc {
  requests = 0;
  errors = 0;
  dRequests = 0;
  dErrors = 0;
  rps = 0;
  buckets: number[] = [];
  security = { mutual_tls: 0, none: 0, unknown: 0, dMutual_tls: 0, dNone: 0 };
  add(e: EdgeReading, prev: EdgeReading | undefined, seconds: number, sameBounds: boolean): void {
    this.requests += e.requests;
    this.errors += e.errors;
    if (!(seconds > 0)) return this.mix(e, 0);
    const d = increase(e.requests, prev?.requests);
    this.dRequests += d;
    this.dErrors += increase(e.errors, prev?.errors);
    this.rps += d / seconds;
    this.mix(e, d);
    if (!sameBounds || !d) return;
    const reset = prev === undefined || e.requests < prev.requests;
    e.buckets.forEach((n, i) => (this.buckets[i] = (this.buckets[i] ?? 0) + (reset ? n : n - (prev!.buckets[i] ?? 0))));
  }
  private mix(e: EdgeReading, d: number) {
    this.security[e.security] += e.requests;
    if (e.security === "mutual_tls") this.security.dMutual_tls += d;
    if (e.security === "none") this.security.dNone += d;
  }
  rates(bounds: readonly number[]): Rates {
    return {
      requests: this.requests,
      rps: this.rps,
      errorRate: this.dRequests ? this.dErrors / this.dRequests : null,
      p99: this.dRequests ? quantileFromBuckets(0.99, bounds, this.buckets) : null,
    };
  }
  /** mutual_tls / none / mixed from what the group's labels say; unknown when they say nothing */
  mtls(): Mtls {
    const s = this.security;
    const [m, n] = s.dMutual_tls + s.dNone ? [s.dMutual_tls, s.dNone] : [s.mutual_tls, s.none];
    return m && n ? "mixed" : m ? "mutual_tls" : n ? "none" : "unknown";
  }
}

function group<K>(map: Map<K, Acc>, key: K): Acc {
  let a = map.get(key);
  if (!a) map.set(key, (a = new Acc()));
  return a;
}

const ratio = (n: number, max: number | null) => (max ? n / max : null);

function breakerOf(clusters: { now: ClusterReading; before?: ClusterReading; seconds: number }[]): BreakerStat {
  const b: BreakerStat = { overflows: 0, overflowRate: 0, saturation: null, active: 0, pending: 0, connections: 0, ejected: 0, hosts: 0 };
  const hosts = new Map<string, boolean>();
  for (const { now: c, before, seconds } of clusters) {
    b.overflows += c.overflows;
    if (seconds > 0 && before) b.overflowRate += increase(c.overflows, before.overflows) / seconds;
    b.active += c.active;
    b.pending += c.pending;
    b.connections += c.connections;
    for (const r of [ratio(c.active, c.maxRequests), ratio(c.connections, c.maxConnections), ratio(c.pending, c.maxPending)]) {
      if (r !== null) b.saturation = Math.max(b.saturation ?? 0, r);
    }
    for (const h of c.hosts) hosts.set(h.address, (hosts.get(h.address) ?? false) || h.ejected);
  }
  b.hosts = hosts.size;
  for (const ejected of hosts.values()) if (ejected) b.ejected++;
  return b;
}

export function computeSnapshot(before: Sample | undefined, now: Sample, at: number): Snapshot {
  const local = now.readings[0];
  const bounds = local?.bounds ?? [];
  const sameBounds = (r: Reading) => r.bounds.length === bounds.length && r.bounds.every((b, i) => b === bounds[i]);
  const nodes = new Map<string, NodeRef>();
  const addNode = (n: NodeRef) => {
    const known = nodes.get(n.id);
    if (!known || (n.kind === "gateway" && known.kind !== "gateway")) nodes.set(n.id, n);
  };
  // per (reporter, from, to) for edges; per (reporter, to, version) for versions
  const edges = new Map<string, { from: string; to: string; reporter: "source" | "destination"; acc: Acc }>();
  const versions = new Map<string, Acc>();
  const out = new Map<string, number>();
  const clusters = new Map<string, { now: ClusterReading; before?: ClusterReading; seconds: number }[]>();
  const sourceReported = new Set<string>();
  let windowSeconds = 0;

  for (const r of now.readings) {
    addNode(r.self);
    const prev = before?.readings.find((p) => p.origin === r.origin);
    const seconds = prev ? (r.at - prev.at) / 1000 : 0;
    windowSeconds = Math.max(windowSeconds, seconds);
    const prevEdges = new Map((prev?.edges ?? []).map((e) => [edgeKey(e), e]));
    for (const e of r.edges) {
      if (e.reporter === "source" && e.requests) sourceReported.add(e.to.id);
      const key = `${e.reporter}|${e.from.id}|${e.to.id}`;
      const g = edges.get(key) ?? { from: e.from.id, to: e.to.id, reporter: e.reporter, acc: new Acc() };
      edges.set(key, g);
      const p = prevEdges.get(edgeKey(e));
      // an edge new since a reading of the same origin started from zero
      const base = prev && !p ? { ...e, requests: 0, errors: 0, buckets: [] } : p;
      g.acc.add(e, base, seconds, sameBounds(r));
      group(versions, `${e.reporter}|${e.to.id}|${e.version}`).add(e, base, seconds, sameBounds(r));
    }
    const prevClusters = new Map((prev?.clusters ?? []).map((c) => [`${c.service}|${c.subset ?? ""}`, c]));
    for (const c of r.clusters) {
      const list = clusters.get(c.service) ?? [];
      clusters.set(c.service, list);
      list.push({ now: c, before: prevClusters.get(`${c.service}|${c.subset ?? ""}`), seconds });
    }
  }

  // A request is counted by its client's proxy (source) and by the server's (destination): draw
  // the client's report, and the server's only for services no proxy reported calling.
  const chosen = (reporter: string, to: string) => (reporter === "source") === sourceReported.has(to);
  const inbound = new Map<string, Acc>();
  const serverSide = new Map<string, Acc>();
  for (const g of edges.values()) {
    if (g.reporter === "destination") mergeInto(group(serverSide, g.to), g.acc);
    if (!chosen(g.reporter, g.to)) continue;
    mergeInto(group(inbound, g.to), g.acc);
    out.set(g.from, (out.get(g.from) ?? 0) + g.acc.rps);
  }
  const totals = new Acc();
  const edgeStats: EdgeStat[] = [];
  const readingNodes = new Map(now.readings.flatMap((r) => r.edges.flatMap((e) => [[e.from.id, e.from], [e.to.id, e.to]] as const)));
  for (const g of [...edges.values()].sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1))) {
    if (!chosen(g.reporter, g.to)) continue;
    addNode(readingNodes.get(g.from) ?? UNKNOWN_NODE);
    addNode(readingNodes.get(g.to) ?? UNKNOWN_NODE);
    mergeInto(totals, g.acc);
    const own = g.acc.mtls();
    edgeStats.push({ from: g.from, to: g.to, reporter: g.reporter, mtls: own !== "unknown" ? own : serverSide.get(g.to)?.mtls() ?? "unknown", ...g.acc.rates(bounds) });
  }

  const nodeStats: NodeStat[] = [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((n) => {
    const acc = inbound.get(n.id) ?? new Acc();
    const list = clusters.get(n.id) ?? [];
    return {
      ...n,
      in: acc.rates(bounds),
      outRps: out.get(n.id) ?? 0,
      versions: versionStats(n.id, versions, acc, list, (reporter) => chosen(reporter, n.id), bounds),
      mtls: serverSide.get(n.id)?.mtls() ?? "unknown",
      breaker: list.length ? breakerOf(list) : null,
    };
  });
  return {
    at,
    windowSeconds,
    self: local?.self ?? UNKNOWN_NODE,
    sources: now.readings.map((r) => ({ origin: r.origin, name: r.self.name, ok: !now.failed?.[r.origin], error: now.failed?.[r.origin] })),
    nodes: nodeStats,
    edges: edgeStats,
    totals: totals.rates(bounds),
  };
}

const edgeKey = (e: EdgeReading) => `${e.reporter}|${e.from.id}|${e.to.id}|${e.version}|${e.security}`;

function mergeInto(into: Acc, from: Acc): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.dRequests += from.dRequests;
  into.dErrors += from.dErrors;
  into.rps += from.rps;
  from.buckets.forEach((n, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + n));
  for (const k of Object.keys(from.security) as (keyof Acc["security"])[]) into.security[k] += from.security[k];
}

function versionStats(
  id: string, versions: Map<string, Acc>, service: Acc, clusters: { now: ClusterReading }[], chosen: (reporter: string) => boolean, bounds: readonly number[],
): VersionStat[] {
  const byVersion = new Map<string, Acc>();
  for (const [key, acc] of versions) {
    const [reporter, to, version] = key.split("|");
    if (to === id && chosen(reporter)) mergeInto(group(byVersion, version), acc);
  }
  const windowed = service.rps > 0;
  return [...byVersion].sort(([a], [b]) => (a < b ? -1 : 1)).map(([version, acc]) => {
    const hosts = new Map<string, boolean>();
    for (const { now: c } of clusters) for (const h of c.hosts) if (h.version === version) hosts.set(h.address, (hosts.get(h.address) ?? false) || h.ejected);
    const whole = windowed ? service.rps : service.requests;
    return {
      version,
      ...acc.rates(bounds),
      share: whole ? (windowed ? acc.rps : acc.requests) / whole : null,
      ejected: [...hosts.values()].filter(Boolean).length,
      hosts: hosts.size,
    };
  });
}
