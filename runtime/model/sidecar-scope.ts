// Which Sidecar resource applies to a workload, and what its outbound side may know because of it
// (Istio's SidecarScope, learned from pilot/pkg/model/sidecar.go, not ported). Choice, as Istio
// makes it: a Sidecar in the workload's namespace whose workloadSelector its labels satisfy, else
// that namespace's Sidecar without a selector, else the root namespace's Sidecar without a selector;
// several at one level: the oldest (creationTimestamp, then name). Scope: egress[].hosts entries
// "namespace/dnsName" let in the services and VirtualServices of that namespace ("*" any, "." the
// workload's, "~" none) whose host the dnsName covers (exact, "*.suffix" or "*"); a VirtualService
// is in whole when one of its hosts is, and the services its routes send to come in with it, as
// Istio adds a selected VirtualService's destinations. No Sidecar, or one without egress: everything.
import type { MeshConfig, Sidecar, VirtualService } from "../config/types.ts";
import type { RegistrySnapshot, Service } from "./types.ts";
import { byCreation } from "./destination-rules.ts";
import { expandHost, normalizeHost } from "./hosts.ts";

/** Istio's meshConfig.rootNamespace default: its selector-less Sidecar is the mesh-wide one */
export const DEFAULT_ROOT_NAMESPACE = "istio-system";

export type OutboundTrafficPolicy = "ALLOW_ANY" | "REGISTRY_ONLY";

export interface Workload {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** the Sidecar in effect for a workload, or undefined */
export function sidecarFor(sidecars: readonly Sidecar[], workload: Workload, rootNamespace = DEFAULT_ROOT_NAMESPACE): Sidecar | undefined {
  const own = sidecars.filter((s) => s.metadata.namespace === workload.namespace).sort(byCreation);
  const selected = own.find((s) => {
    const labels = s.spec.workloadSelector?.labels;
    return labels !== undefined && Object.entries(labels).every(([k, v]) => workload.labels[k] === v);
  });
  if (selected) return selected;
  const namespaceWide = own.find((s) => s.spec.workloadSelector?.labels === undefined);
  if (namespaceWide) return namespaceWide;
  return sidecars.filter((s) => s.metadata.namespace === rootNamespace && s.spec.workloadSelector?.labels === undefined).sort(byCreation)[0];
}

interface EgressHost {
  /** a namespace, "*" for any, or undefined for "~" (no namespace: the entry lets nothing in) */
  namespace: string | undefined;
  host: string;
}

/** what a Sidecar lets a workload's outbound side know */
export interface SidecarScope {
  readonly sidecar: Sidecar;
  /** the egress hosts as written, "." resolved to the workload's namespace */
  readonly hosts: readonly string[];
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** the config and snapshot cut to the scope: what the outbound compile sees */
  cut(config: MeshConfig, snapshot: RegistrySnapshot): { config: MeshConfig; snapshot: RegistrySnapshot; services: number; virtualServices: number };
}

/** a dnsName pattern covers a host: exact, "*.suffix" (one or more labels before it) or "*"; a wildcard host is in when the pattern is inside it */
function covers(pattern: string, host: string): boolean {
  if (pattern === "*" || pattern === host) return true;
  if (pattern.startsWith("*.") && host.endsWith(pattern.slice(1))) return true;
  // "*.example.com" (a ServiceEntry or VirtualService host) is in for "a.example.com" or "*.a.example.com"
  return host.startsWith("*.") && (pattern.endsWith(host.slice(1)) || pattern === host);
}

export function sidecarScope(sidecar: Sidecar, workload: Workload): SidecarScope {
  const listener = sidecar.spec.egress?.[0];
  const entries: EgressHost[] | undefined = listener?.hosts.map((raw) => {
    const slash = raw.indexOf("/");
    const ns = raw.slice(0, slash);
    return { namespace: ns === "~" ? undefined : ns === "." ? workload.namespace : ns, host: normalizeHost(raw.slice(slash + 1)) };
  });
  const inScope = (namespace: string, host: string) =>
    entries === undefined || entries.some((e) => e.namespace !== undefined && (e.namespace === "*" || e.namespace === namespace) && covers(e.host, host));
  return {
    sidecar,
    hosts: entries?.map((e) => `${e.namespace ?? "~"}/${e.host}`) ?? ["*/*"],
    outboundTrafficPolicy: sidecar.spec.outboundTrafficPolicy?.mode,
    cut(config, snapshot) {
      if (entries === undefined) return { config, snapshot, services: snapshot.services.size, virtualServices: config.virtualServices.length };
      const vss: VirtualService[] = [];
      const destinations = new Set<string>();
      for (const vs of config.virtualServices) {
        const ns = vs.metadata.namespace;
        if (!vs.spec.hosts.some((h) => inScope(ns, expandHost(h, ns)))) continue;
        vss.push(vs);
        for (const http of vs.spec.http ?? []) {
          for (const d of http.route ?? []) destinations.add(expandHost(d.destination.host, ns));
          if (http.mirror) destinations.add(expandHost(http.mirror.host, ns));
          for (const m of http.mirrors ?? []) destinations.add(expandHost(m.destination.host, ns));
        }
      }
      const services = new Map<string, Service>();
      for (const [host, service] of snapshot.services) if (inScope(service.namespace, host) || destinations.has(host)) services.set(host, service);
      return { config: { ...config, virtualServices: vss }, snapshot: { ...snapshot, services }, services: services.size, virtualServices: vss.length };
    },
  };
}
