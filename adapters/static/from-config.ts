// The static registry: ServiceEntry and WorkloadEntry resources (from YAML files) turned into one
// frozen RegistrySnapshot, following Istio's ServiceEntry conversion.
import type { ServiceEntry, ServicePort, WorkloadEntry, WorkloadEntrySpec } from "../../runtime/config/types.ts";
import { freezeSnapshot } from "../../runtime/model/registry.ts";
import { addressDomain, normalizeHost } from "../../runtime/model/hosts.ts";
import type { Endpoint, RegistrySnapshot, Service, ServicePortModel } from "../../runtime/model/types.ts";

/**
 * The default trust domain of identities derived from serviceAccount (DESIGN.md defaults). A proxy
 * whose CA has another passes its own: as istiod does, an endpoint's expected identity is
 * spiffe://<the mesh's trust domain>/ns/<ns>/sa/<sa>.
 */
export const TRUST_DOMAIN = "cluster.local";

// Istio's port-name convention "<protocol>[-<suffix>]", used when `protocol` is left out.
const NAMED_PROTOCOLS = new Set(["http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "udp", "mongo", "redis", "mysql"]);

/**
 * Every ServiceEntry host becomes one Service. Hosts are literal (never expanded against the
 * namespace), lower-cased with a trailing dot dropped; wildcard hosts are kept as written.
 * When two ServiceEntries declare the same host, the older one wins: ordered by
 * creationTimestamp (absent counts as oldest, like Go's zero time), then namespace, then name,
 * then file and document so the choice never depends on load order. Istio keeps both, one per
 * namespace, and picks by visibility; a snapshot keyed by host name can hold only one.
 */
export function snapshotFromConfig(
  serviceEntries: readonly ServiceEntry[],
  workloadEntries: readonly WorkloadEntry[],
  source = "static",
  trustDomain = TRUST_DOMAIN,
): RegistrySnapshot {
  const services = new Map<string, Service>();
  for (const se of [...serviceEntries].sort(precedence)) {
    const namespace = se.metadata.namespace;
    const resolution = se.spec.resolution ?? "NONE";
    const ports: readonly ServicePortModel[] = (se.spec.ports ?? []).map(toPort);
    const listed = listedEndpoints(se, workloadEntries, trustDomain);
    // Istio: a DNS entry with neither endpoints nor a workloadSelector sends to its own host name
    // (resolved by the proxy into addresses: model/dns-registry.ts). A NONE entry (the default)
    // passes the connection to its original destination; an app calling dietmesh's outbound
    // listener has none, so the nearest is the request's own authority, which for a named host is
    // that host: resolved the same way (first address, as Envoy's dynamic forward proxy). Wildcard
    // NONE hosts without endpoints are refused at load (config/schemas.ts).
    const hostIsEndpoint = listed.length === 0 && !se.spec.workloadSelector && resolution !== "STATIC";
    for (const raw of se.spec.hosts) {
      const hostname = normalizeHost(raw);
      if (services.has(hostname)) continue;
      const endpoints = hostIsEndpoint && !hostname.includes("*") ? hostEndpoint(hostname, namespace) : listed;
      services.set(hostname, Object.freeze({
        hostname,
        namespace,
        ports,
        endpoints,
        location: se.spec.location ?? "MESH_EXTERNAL",
        resolution,
        source,
        ...(se.spec.addresses?.length ? { addresses: se.spec.addresses.map(addressDomain) } : {}),
      }));
    }
  }
  return freezeSnapshot(services);
}

/**
 * The entry's own endpoints, then (with a workloadSelector) the WorkloadEntries of its namespace
 * whose spec.labels include every selector label; an empty selector selects them all, as a
 * Kubernetes label selector does. Address-less entries (Istio allows them for other networks)
 * are skipped: there is nothing to connect to.
 */
function listedEndpoints(se: ServiceEntry, workloadEntries: readonly WorkloadEntry[], trustDomain: string): readonly Endpoint[] {
  const ns = se.metadata.namespace;
  const out: Endpoint[] = [];
  for (const spec of se.spec.endpoints ?? []) if (spec.address) out.push(toEndpoint(spec, ns, trustDomain));
  const selector = se.spec.workloadSelector;
  if (selector) {
    for (const we of workloadEntries) {
      if (we.metadata.namespace !== ns || !we.spec.address) continue;
      if (includesLabels(we.spec.labels ?? {}, selector.labels ?? {})) out.push(toEndpoint(we.spec, ns, trustDomain));
    }
  }
  return out;
}

function includesLabels(labels: Record<string, string>, selector: Record<string, string>): boolean {
  for (const key of Object.keys(selector)) if (labels[key] !== selector[key]) return false;
  return true;
}

const NONE: Readonly<Record<string, never>> = Object.freeze({});

/** a config map as the endpoint's own: the loaded config's (frozen already) is shared, not copied */
function frozenCopy<T extends object>(map: T | undefined): Readonly<T> {
  if (!map) return NONE as Readonly<T>;
  return Object.isFrozen(map) ? map : Object.freeze({ ...map });
}

/** Static endpoints are always ready: no health signal exists until outlier detection ejects. */
function toEndpoint(spec: WorkloadEntrySpec, namespace: string, trustDomain: string): Endpoint {
  const endpoint: Endpoint = {
    address: spec.address!,
    ports: frozenCopy(spec.ports),
    labels: frozenCopy(spec.labels),
    ready: true,
    namespace,
  };
  if (spec.serviceAccount) endpoint.identity = `spiffe://${trustDomain}/ns/${namespace}/sa/${spec.serviceAccount}`;
  if (spec.weight !== undefined && spec.weight > 0) endpoint.weight = spec.weight;
  return Object.freeze(endpoint);
}

/** No per-name ports: endpointPort() then gives targetPort or the service port, as Istio does. */
function hostEndpoint(hostname: string, namespace: string): readonly Endpoint[] {
  return [Object.freeze({ address: hostname, ports: NONE, labels: NONE, ready: true, namespace })];
}

/**
 * Protocol upper-cased. When omitted, Istio sniffs the traffic; dietmesh takes the port-name
 * convention ("http-web" → HTTP) and otherwise HTTP, the only traffic it carries today.
 */
function toPort(port: ServicePort): ServicePortModel {
  const prefix = port.name.toLowerCase().split("-")[0];
  const named = port.name.toLowerCase().startsWith("grpc-web") ? "grpc-web" : prefix;
  const protocol = port.protocol ? port.protocol.toUpperCase() : (NAMED_PROTOCOLS.has(named) ? named.toUpperCase() : "HTTP");
  const out: ServicePortModel = { name: port.name, number: port.number, protocol };
  if (port.targetPort !== undefined && port.targetPort > 0) out.targetPort = port.targetPort;
  return Object.freeze(out);
}

function precedence(a: ServiceEntry, b: ServiceEntry): number {
  return (
    compare(created(a), created(b)) ||
    compare(a.metadata.namespace, b.metadata.namespace) ||
    compare(a.metadata.name, b.metadata.name) ||
    compare(a.origin.file, b.origin.file) ||
    a.origin.document - b.origin.document
  );
}

function created(r: ServiceEntry): number {
  const t = r.metadata.creationTimestamp === undefined ? NaN : Date.parse(r.metadata.creationTimestamp);
  return Number.isNaN(t) ? -Infinity : t;
}

function compare<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
