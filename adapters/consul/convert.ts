// Consul's /v1/health/service answer → the canonical model. One Consul service becomes one
// Service per name a client may use for it; each passing instance becomes one Endpoint.
import { normalizeHost } from "../../runtime/model/hosts.ts";
import type { Endpoint, Service, ServicePortModel } from "../../runtime/model/types.ts";

/** the fields dietmesh reads from one /v1/health/service entry */
export interface HealthEntry {
  Node: { Node: string; Address: string; Datacenter?: string };
  Service: {
    ID: string;
    Service: string;
    Tags?: string[] | null;
    Address?: string;
    Meta?: Record<string, string> | null;
    Port: number;
    Weights?: { Passing: number; Warning: number } | null;
    Namespace?: string;
  };
  Checks?: { Status: string }[] | null;
}

const PROTOCOLS = new Set(["HTTP", "HTTP2", "GRPC", "TCP", "TLS"]);

/**
 * Labels for subsets and sourceLabels: tags first, then Service.Meta, which wins on a clash.
 * A tag "key=value" (or Istio's old Consul form "key|value") is that label; a bare tag "canary"
 * is the label canary="true", so a subset can select on it. `version=v1` belongs in Meta.
 */
export function consulLabels(tags: readonly string[] | null | undefined, meta: Readonly<Record<string, string>> | null | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const tag of tags ?? []) {
    const cut = tag.search(/[=|]/);
    if (cut === 0) continue;
    if (cut === -1) labels[tag] = "true";
    else labels[tag.slice(0, cut)] = tag.slice(cut + 1);
  }
  for (const [key, value] of Object.entries(meta ?? {})) labels[key] = value;
  return labels;
}

/** Meta "protocol" as Consul's service-defaults and Istio's Consul adapter name it; HTTP otherwise */
export function consulProtocol(meta: Readonly<Record<string, string>> | null | undefined): string {
  const protocol = (meta?.protocol ?? "").toUpperCase();
  return PROTOCOLS.has(protocol) ? protocol : "HTTP";
}

/** the names a Consul service answers to, as Consul DNS spells them, plus the bare name */
export function consulHosts(name: string, datacenter?: string): string[] {
  const n = normalizeHost(name);
  const hosts = [`${n}.service.consul`];
  if (datacenter) hosts.push(`${n}.service.${normalizeHost(datacenter)}.consul`);
  hosts.push(n);
  return hosts;
}

function passing(entry: HealthEntry): boolean {
  return (entry.Checks ?? []).every((c) => c.Status === "passing");
}

/** The instance address, else its node's (Consul's own rule); the port under the service's port name. */
function toEndpoint(entry: HealthEntry, portName: string, namespace: string): Endpoint {
  const svc = entry.Service;
  const endpoint: Endpoint = {
    address: svc.Address || entry.Node.Address,
    ports: Object.freeze({ [portName]: svc.Port }),
    labels: Object.freeze(consulLabels(svc.Tags, svc.Meta)),
    ready: true,
    namespace,
  };
  const weight = svc.Weights?.Passing;
  if (weight !== undefined && weight > 0 && weight !== 1) endpoint.weight = weight;
  return Object.freeze(endpoint);
}

export interface ConvertOptions {
  datacenter?: string;
  namespace?: string;
}

/**
 * One frozen Service per host of consulHosts(name). Only passing instances count (the query asks
 * for ?passing; this checks again). Instances are sorted so equal answers give equal Services.
 * Consul has no service port: clients name the service on port 80 and each endpoint carries its
 * own port; the protocol comes from the first instance's Meta.protocol.
 */
export function consulServices(name: string, entries: readonly HealthEntry[], options: ConvertOptions = {}): Service[] {
  const live = entries.filter(passing).sort((a, b) => compare(a.Node.Node, b.Node.Node) || compare(a.Service.ID, b.Service.ID));
  const namespace = options.namespace ?? live[0]?.Service.Namespace ?? "default";
  const protocol = consulProtocol(live[0]?.Service.Meta);
  const port: ServicePortModel = Object.freeze({ name: protocol.toLowerCase(), number: 80, protocol });
  const endpoints: readonly Endpoint[] = live.map((e) => toEndpoint(e, port.name, namespace));
  const ports: readonly ServicePortModel[] = [port];
  return consulHosts(name, options.datacenter).map((hostname) =>
    Object.freeze({ hostname, namespace, ports, endpoints, location: "MESH_INTERNAL", resolution: "STATIC", source: "consul" } as const),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
