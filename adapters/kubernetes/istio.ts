// The Istio kinds the adapter watches and which version of each to read. A CRD serves the same
// objects under every version it lists, so each kind is watched once, in the newest version the
// server serves (v1, else v1beta1, else v1alpha3), found through discovery. A group the server
// does not serve (Istio's CRDs not installed) is simply not watched.
import { apiGroupSchema, resourceListSchema } from "./schemas.ts";
import { KubeApiError, type KubeClient } from "./client.ts";

export interface IstioKind {
  group: string;
  kind: string;
  resource: string;
}

export const ISTIO_KINDS: readonly IstioKind[] = [
  { group: "networking.istio.io", kind: "Gateway", resource: "gateways" },
  { group: "networking.istio.io", kind: "VirtualService", resource: "virtualservices" },
  { group: "networking.istio.io", kind: "DestinationRule", resource: "destinationrules" },
  { group: "networking.istio.io", kind: "ServiceEntry", resource: "serviceentries" },
  { group: "networking.istio.io", kind: "WorkloadEntry", resource: "workloadentries" },
  { group: "networking.istio.io", kind: "Sidecar", resource: "sidecars" },
  { group: "security.istio.io", kind: "PeerAuthentication", resource: "peerauthentications" },
  { group: "security.istio.io", kind: "AuthorizationPolicy", resource: "authorizationpolicies" },
  { group: "security.istio.io", kind: "RequestAuthentication", resource: "requestauthentications" },
];

/** newest first: the versions dietmesh's config loader reads */
const PREFERENCE = ["v1", "v1beta1", "v1alpha3"];

export interface WatchedKind extends IstioKind {
  version: string;
}

/** each kind with the version to watch it in; kinds whose group or resource the server lacks are left out */
export async function discoverIstioKinds(client: KubeClient, signal: AbortSignal): Promise<{ kinds: WatchedKind[]; missing: string[] }> {
  const kinds: WatchedKind[] = [];
  const missing: string[] = [];
  for (const group of [...new Set(ISTIO_KINDS.map((k) => k.group))]) {
    let served: string[];
    try {
      served = apiGroupSchema.parse(await client.get(`/apis/${group}`, {}, signal)).versions.map((v) => v.version);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        missing.push(group);
        continue;
      }
      throw error;
    }
    const resources = new Map<string, Set<string>>();
    for (const version of PREFERENCE.filter((v) => served.includes(v))) {
      const list = resourceListSchema.parse(await client.get(`/apis/${group}/${version}`, {}, signal));
      resources.set(version, new Set(list.resources.map((r) => r.name)));
    }
    for (const kind of ISTIO_KINDS.filter((k) => k.group === group)) {
      const version = PREFERENCE.find((v) => resources.get(v)?.has(kind.resource));
      if (version) kinds.push({ ...kind, version });
      else missing.push(`${kind.resource}.${group}`);
    }
  }
  return { kinds, missing };
}
