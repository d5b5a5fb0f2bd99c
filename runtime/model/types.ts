// The canonical model every discovery adapter produces and the compiler consumes: services and
// their endpoints, independent of where they were learned (files, Kubernetes, Consul).

export interface ServicePortModel {
  name: string;
  number: number;
  protocol: string; // HTTP, HTTP2, GRPC, TCP, TLS, ...
  targetPort?: number;
}

export interface Endpoint {
  address: string; // IP or host name
  /** port name → port number on this endpoint (ServiceEntry endpoints' `ports` map) */
  ports: Readonly<Record<string, number>>;
  labels: Readonly<Record<string, string>>;
  /** SPIFFE ID string of the workload when known (from its service account) */
  identity?: string;
  weight?: number;
  ready: boolean;
  namespace?: string;
}

export interface Service {
  /** fully qualified host name, lower case: "hello-istio.default.svc.cluster.local" */
  hostname: string;
  namespace: string;
  ports: readonly ServicePortModel[];
  endpoints: readonly Endpoint[];
  location: "MESH_INTERNAL" | "MESH_EXTERNAL";
  resolution: "NONE" | "STATIC" | "DNS" | "DNS_ROUND_ROBIN";
  /** a ServiceEntry's addresses (VIPs) as names a client may call the service by: "10.0.0.7", "[fd00::7]" */
  addresses?: readonly string[];
  /** where the registry learned it, for /config_dump */
  source: string;
  /**
   * Set by a registry that fetches endpoints only for services in use (Kubernetes, large
   * clusters): tells it this service is used; while its endpoints' first list runs, a promise
   * that settles (bounded) once a snapshot holding them is out.
   */
  readonly use?: () => Promise<void> | undefined;
}

/**
 * A config object a registry read (an Istio resource from the Kubernetes API). The config watcher
 * validates it as it validates a YAML document and compiles it with the files' config.
 */
export interface RegistryResource {
  /** where it lives, for messages: "kubernetes:/apis/networking.istio.io/v1/namespaces/ns/virtualservices/name" */
  readonly ref: string;
  readonly object: unknown;
}

/** One immutable picture of every service a registry knows. */
export interface RegistrySnapshot {
  readonly services: ReadonlyMap<string, Service>;
  /** Istio config the registry read; the same array for as long as it does not change */
  readonly resources?: readonly RegistryResource[];
}

export const emptySnapshot: RegistrySnapshot = { services: new Map() };
