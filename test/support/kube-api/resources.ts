// The resource types the test Kubernetes API server serves, as its discovery documents describe
// them: core v1, discovery.k8s.io, apps, batch, and the Istio CRDs (every version the CRDs serve,
// one stored object per name whatever the version, as a CRD with `conversion: None` behaves).

export interface ResourceType {
  /** "" for the core group */
  group: string;
  /** served versions, the preferred (discovery's preferredVersion) first */
  versions: readonly string[];
  /** the plural, as in URLs: "services" */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  /** has a /status subresource: the main resource ignores status, /status changes only status */
  status: boolean;
  /** a custom resource: JSON merge patch only, resourceVersion required on update, items keep kind */
  custom: boolean;
  /** metadata.generation is kept and bumped when spec changes */
  generation: boolean;
  /** top-level fields besides apiVersion, kind, metadata (strict field validation checks them) */
  fields: readonly string[];
}

/** "networking.istio.io/virtualservices", "/services" for the core group */
export const typeId = (t: Pick<ResourceType, "group" | "resource">) => `${t.group}/${t.resource}`;

/** "services", "virtualservices.networking.istio.io": how messages and details name a resource */
export const qualified = (t: ResourceType) => (t.group ? `${t.resource}.${t.group}` : t.resource);

export const apiVersionOf = (t: ResourceType, version: string) => (t.group ? `${t.group}/${version}` : version);

function builtin(group: string, version: string, resource: string, kind: string, more: Partial<ResourceType> = {}): ResourceType {
  return {
    group, versions: [version], resource, kind, singular: kind.toLowerCase(), namespaced: true, shortNames: [], categories: [],
    status: false, custom: false, generation: false, fields: ["spec", "status"], ...more,
  };
}

function istio(group: string, versions: string[], resource: string, kind: string, shortNames: string[]): ResourceType {
  const prefix = group.split(".")[0];
  return {
    group, versions, resource, kind, singular: kind.toLowerCase(), namespaced: true, shortNames,
    categories: ["istio-io", `${prefix}-istio-io`], status: true, custom: true, generation: true, fields: ["spec", "status"],
  };
}

const NETWORKING = ["v1", "v1beta1", "v1alpha3"];
const SECURITY = ["v1", "v1beta1"];

export const RESOURCE_TYPES: readonly ResourceType[] = [
  builtin("", "v1", "namespaces", "Namespace", { namespaced: false, shortNames: ["ns"], status: true }),
  builtin("", "v1", "services", "Service", { shortNames: ["svc"], categories: ["all"], status: true }),
  builtin("", "v1", "pods", "Pod", { shortNames: ["po"], categories: ["all"], status: true }),
  builtin("", "v1", "serviceaccounts", "ServiceAccount", { shortNames: ["sa"], fields: ["secrets", "imagePullSecrets", "automountServiceAccountToken"] }),
  // Secrets keep data (base64) and type; stringData is folded into data on write, as the API server does (objects.ts)
  builtin("", "v1", "secrets", "Secret", { fields: ["data", "stringData", "type", "immutable"] }),
  builtin("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", { fields: ["addressType", "endpoints", "ports"] }),
  builtin("apps", "v1", "deployments", "Deployment", { shortNames: ["deploy"], categories: ["all"], status: true, generation: true }),
  builtin("batch", "v1", "jobs", "Job", { categories: ["all"], status: true, generation: true }),
  istio("networking.istio.io", NETWORKING, "virtualservices", "VirtualService", ["vs"]),
  istio("networking.istio.io", NETWORKING, "destinationrules", "DestinationRule", ["dr"]),
  istio("networking.istio.io", NETWORKING, "gateways", "Gateway", ["gw"]),
  istio("networking.istio.io", NETWORKING, "serviceentries", "ServiceEntry", ["se"]),
  istio("networking.istio.io", NETWORKING, "workloadentries", "WorkloadEntry", ["we"]),
  istio("networking.istio.io", NETWORKING, "sidecars", "Sidecar", []),
  istio("security.istio.io", SECURITY, "peerauthentications", "PeerAuthentication", ["pa"]),
  istio("security.istio.io", SECURITY, "authorizationpolicies", "AuthorizationPolicy", ["ap"]),
  istio("security.istio.io", SECURITY, "requestauthentications", "RequestAuthentication", ["ra"]),
];

/** group → versions served (preferred first), in discovery order */
export function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    const list = out.get(t.group) ?? [];
    for (const v of t.versions) if (!list.includes(v)) list.push(v);
    out.set(t.group, list);
  }
  return out;
}

export function typesIn(group: string, version: string): ResourceType[] {
  return RESOURCE_TYPES.filter((t) => t.group === group && t.versions.includes(version));
}

export function findType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.resource === resource && t.versions.includes(version));
}

export function typeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  const slash = apiVersion.indexOf("/");
  const group = slash === -1 ? "" : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  return RESOURCE_TYPES.find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
}
