// Which service a sidecar's inbound request is for, as Istio's destination-side metrics name it
// (destination_service, _name, _namespace): among the registry's services, the ones this workload
// backs — an endpoint at one of the sidecar's inbound addresses, or one in its namespace whose labels
// all match the workload's (a Kubernetes Service selector's rule). One such service: that one;
// several: the one the Host header names, else the first by name (Istio's inbound cluster picks
// one as well). Worked out once per registry snapshot; per request it is one map read.
import type { RegistrySnapshot, Service } from "../model/types.ts";
import { authorityHost, normalizeHost } from "../model/hosts.ts";
import { serviceInfo, type ServiceInfo } from "./workload-info.ts";

export interface LocalServiceOptions {
  snapshot: () => RegistrySnapshot;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  /** "ip:port" of the sidecar's inbound listeners, once they listen (asked once per snapshot) */
  inboundAddresses?: () => readonly string[];
}

/** arbitrary Host headers must not grow the cache: past this, answers are computed and not kept */
const MAX_AUTHORITIES = 256;

export function localServiceLookup(options: LocalServiceOptions): (authority: string) => ServiceInfo | undefined {
  let seen: RegistrySnapshot | undefined;
  let backed: Service[] = [];
  const byAuthority = new Map<string, ServiceInfo | null>();
  let inbound = new Set<string>();
  const labelled = Object.keys(options.labels).length > 0;

  const isMine = (service: Service) =>
    service.endpoints.some((e) => {
      for (const port of Object.values(e.ports)) if (inbound.has(`${e.address}:${port}`)) return true;
      if (!labelled || service.namespace !== options.namespace) return false;
      const keys = Object.keys(e.labels);
      return keys.length > 0 && keys.every((k) => options.labels[k] === e.labels[k]);
    });

  function choose(authority: string): ServiceInfo | null {
    if (backed.length === 0) return null;
    if (backed.length === 1) return serviceInfo(backed[0]);
    const host = normalizeHost(authorityHost(authority));
    const short = host.split(".")[0];
    const named = backed.find((s) => s.hostname === host) ?? backed.find((s) => s.hostname.startsWith(`${short}.`));
    return serviceInfo(named ?? backed[0]);
  }

  return (authority) => {
    const snapshot = options.snapshot();
    if (snapshot !== seen) {
      seen = snapshot;
      inbound = new Set(options.inboundAddresses?.() ?? []);
      backed = [...snapshot.services.values()].filter(isMine).sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
      byAuthority.clear();
    }
    let answer = byAuthority.get(authority);
    if (answer === undefined) {
      answer = choose(authority);
      if (byAuthority.size < MAX_AUTHORITIES) byAuthority.set(authority, answer);
    }
    return answer ?? undefined;
  };
}
