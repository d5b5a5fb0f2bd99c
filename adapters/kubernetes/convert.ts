// Services, EndpointSlices and Pods → the canonical model, as Istio's Kubernetes registry converts
// them. Each Service is one model Service at name.ns.svc.<domain>; the compiler answers the short
// names (name.ns.svc, name.ns, and name within the namespace) from that one entry, as Kubernetes
// DNS does. Endpoints come from every EndpointSlice labelled kubernetes.io/service-name=<name>;
// only ready ones are kept (the conformance rule "unhealthy leaves"); labels and identity come
// from the Pod the endpoint's targetRef names.
import { DEFAULT_DOMAIN_SUFFIX, normalizeHost } from "../../runtime/model/hosts.ts";
import type { Endpoint, Service, ServicePortModel } from "../../runtime/model/types.ts";
import { TRUST_DOMAIN } from "../static/from-config.ts";

export interface KubeServicePort {
  name: string;
  port: number;
  targetPort?: number | string;
  protocol: string;
  appProtocol?: string;
}

export interface KubeService {
  name: string;
  namespace: string;
  type: string;
  externalName?: string;
  /** spec.selector; absent when empty (a Service whose slices are written by hand) */
  selector?: Readonly<Record<string, string>>;
  ports: KubeServicePort[];
}

export interface KubeEndpoint {
  address: string;
  /** conditions.ready; nil means ready (the EndpointSlice API's rule) */
  ready: boolean;
  pod?: { namespace: string; name: string };
}

export interface KubeSlice {
  name: string;
  namespace: string;
  /** the kubernetes.io/service-name label */
  service?: string;
  addressType: string;
  /** undefined: the slice applies to all ports (a headless Service without ports) */
  ports?: { name: string; port: number; protocol: string }[];
  endpoints: KubeEndpoint[];
}

export interface KubePod {
  labels: Readonly<Record<string, string>>;
  serviceAccount: string;
}

export interface ConvertOptions {
  domainSuffix?: string;
  /** the mesh's trust domain, for the identities endpoints are expected to present (default cluster.local) */
  trustDomain?: string;
  /** ns/name → Pod */
  pods: ReadonlyMap<string, KubePod>;
}

// Istio's rule: appProtocol first, then the port name's prefix ("http-web" → HTTP); dietmesh
// carries HTTP when neither says (Istio would sniff).
const PROTOCOLS: Record<string, string> = {
  http: "HTTP", http2: "HTTP2", https: "HTTPS", grpc: "GRPC", "grpc-web": "GRPC-WEB", tcp: "TCP", tls: "TLS",
  mongo: "MONGO", redis: "REDIS", mysql: "MYSQL", "kubernetes.io/h2c": "HTTP2", "kubernetes.io/ws": "HTTP", "kubernetes.io/wss": "HTTPS",
};

export function portProtocol(port: Pick<KubeServicePort, "name" | "appProtocol">): string {
  const app = port.appProtocol?.toLowerCase();
  if (app && PROTOCOLS[app]) return PROTOCOLS[app];
  const name = port.name.toLowerCase();
  const prefix = name.startsWith("grpc-web") ? "grpc-web" : name.split("-")[0];
  return PROTOCOLS[prefix] ?? "HTTP";
}

export const serviceHost = (name: string, namespace: string, domainSuffix = DEFAULT_DOMAIN_SUFFIX) =>
  normalizeHost(`${name}.${namespace}.svc.${domainSuffix}`);

function toPort(p: KubeServicePort): ServicePortModel {
  const out: ServicePortModel = { name: p.name, number: p.port, protocol: portProtocol(p) };
  if (typeof p.targetPort === "number" && p.targetPort > 0) out.targetPort = p.targetPort;
  return Object.freeze(out);
}

function endpointsOf(svc: KubeService, slices: readonly KubeSlice[], options: ConvertOptions): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const slice of slices) {
    const ports: Record<string, number> = {};
    for (const p of slice.ports ?? []) if (p.protocol !== "UDP" && p.protocol !== "SCTP") ports[p.name] = p.port;
    for (const e of slice.endpoints) {
      if (!e.ready) continue;
      const pod = e.pod ? options.pods.get(`${e.pod.namespace}/${e.pod.name}`) : undefined;
      // the same endpoint can sit in two slices for a moment while the controller moves it
      const key = `${e.address}|${e.pod ? `${e.pod.namespace}/${e.pod.name}` : ""}|${JSON.stringify(ports)}`;
      if (byKey.has(key)) continue;
      const endpoint: Endpoint = {
        address: e.address,
        ports: Object.freeze({ ...ports }),
        labels: Object.freeze({ ...(pod?.labels ?? {}) }),
        ready: true,
        namespace: svc.namespace,
      };
      if (pod && e.pod) endpoint.identity = `spiffe://${options.trustDomain ?? TRUST_DOMAIN}/ns/${e.pod.namespace}/sa/${pod.serviceAccount}`;
      byKey.set(key, Object.freeze(endpoint));
    }
  }
  return [...byKey.values()].sort((a, b) => compare(a.address, b.address) || compare(JSON.stringify(a.ports), JSON.stringify(b.ports)));
}

/** one frozen model Service for one Kubernetes Service and the slices labelled with its name */
export function kubeService(svc: KubeService, slices: readonly KubeSlice[], options: ConvertOptions): Service {
  const hostname = serviceHost(svc.name, svc.namespace, options.domainSuffix);
  const ports: readonly ServicePortModel[] = svc.ports.filter((p) => p.protocol !== "UDP" && p.protocol !== "SCTP").map(toPort);
  if (svc.type === "ExternalName" && svc.externalName) {
    // Istio: an ExternalName Service is a DNS name outside the mesh
    const endpoint: Endpoint = Object.freeze({ address: normalizeHost(svc.externalName), ports: Object.freeze({}), labels: Object.freeze({}), ready: true, namespace: svc.namespace });
    return Object.freeze({ hostname, namespace: svc.namespace, ports, endpoints: [endpoint], location: "MESH_EXTERNAL", resolution: "DNS", source: "kubernetes" });
  }
  const endpoints: readonly Endpoint[] = endpointsOf(svc, slices, options);
  return Object.freeze({ hostname, namespace: svc.namespace, ports, endpoints, location: "MESH_INTERNAL", resolution: "STATIC", source: "kubernetes" });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
