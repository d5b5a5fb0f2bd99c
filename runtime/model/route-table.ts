// The immutable product of compile(): what a listener needs to route a request, with every
// matcher, picker and header operation already built. Built off the request path and swapped
// whole through a TableRef; a request reads the reference once and uses that table to the end.
import type { MeshConfig, TrafficPolicy } from "../config/types.ts";
import type { CompiledFault } from "../resilience/fault.ts";
import type { RetryPolicy } from "../resilience/retry-policy.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import type { Balancer } from "../resilience/balancers/types.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { RegistrySnapshot, Service, ServicePortModel } from "./types.ts";
import type { HttpRequest } from "../exchange/types.ts";
import type { CorsPolicy } from "../routing/cors-policy.ts";
import type { TcpPortRoutes } from "./compile-tcp.ts";

export type HeaderEdit = (headers: Headers) => void;

/** An Envoy-style cluster: one service port, optionally narrowed to a subset. */
export interface Cluster {
  /** Envoy's naming: "outbound|8080|v1|hello-istio.default.svc.cluster.local" */
  readonly name: string;
  readonly service: Service;
  readonly port: ServicePortModel;
  readonly subset?: string;
  readonly hosts: readonly UpstreamHost[];
  readonly balancer: Balancer;
  /** DestinationRule policy in force (subset-level over service-level, port-level applied) */
  readonly policy: TrafficPolicy;
  /** consistent-hash input, when the policy asks for it */
  readonly hashKey?: (request: HttpRequest, sourceIp: string) => string | undefined;
}

export interface Target {
  readonly cluster: Cluster;
  /** route- and destination-level header operations, compiled together */
  readonly requestHeaders?: HeaderEdit;
  readonly responseHeaders?: HeaderEdit;
}

export interface Mirror {
  readonly cluster: Cluster;
  /** 0..100 */
  readonly percent: number;
}

export interface ForwardAction {
  readonly kind: "forward";
  /** weighted choice among targets; random injected at compile */
  readonly pick: () => Target;
  readonly targets: readonly Target[];
  /** new path and authority, or undefined when the route does not rewrite */
  readonly rewrite?: (facts: RequestFacts) => { path: string; authority: string };
  /** the route timeout: covers every try and the response body */
  readonly timeoutMs?: number;
  readonly retry: RetryPolicy;
  /** undefined when the route injects no fault */
  readonly fault?: CompiledFault;
  readonly mirrors: readonly Mirror[];
}

export interface RespondAction {
  readonly kind: "respond";
  /** redirect or direct response, built per request from the facts */
  readonly respond: (facts: RequestFacts) => Response;
  readonly responseHeaders?: HeaderEdit;
}

export type RouteAction = ForwardAction | RespondAction;

export interface Route {
  /** "<namespace>/<virtualservice>#<index>" or the route's own name */
  readonly name: string;
  readonly matches: (facts: RequestFacts) => boolean;
  readonly action: RouteAction;
  /** no match conditions: goes last when VirtualServices merge on a gateway host */
  readonly catchAll: boolean;
  /** the route's corsPolicy, compiled (filters/cors.ts applies it) */
  readonly cors?: CorsPolicy;
}

export interface VirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly Route[];
}

/** The virtual hosts one listener serves, looked up by the request's host name. */
export interface RouteConfig {
  readonly exact: ReadonlyMap<string, VirtualHost>;
  /** "*.example.com" style suffixes, longest first; "*" last */
  readonly wildcards: readonly { suffix: string; host: VirtualHost }[];
  /**
   * set when hosts are compiled on first use (model/on-demand.ts, large meshes): `exact` then
   * lists only compiled hosts, and this says how many there are in all and why each was compiled
   */
  readonly onDemand?: OnDemand;
  /**
   * a sidecar's outbound: the route for a host no virtual host serves, by the outbound traffic
   * policy (unknown-host.ts: block_all 502, or allow_any to PassthroughCluster); unset: 404 NR
   */
  readonly unknownHost?: (facts: RequestFacts) => Route;
  /** a sidecar's outbound: the Sidecar resource in effect and what it lets in (/config_dump) */
  readonly scope?: OutboundScope;
}

export interface OutboundScope {
  /** "namespace/name" of the Sidecar in effect, or undefined when none applies */
  readonly sidecar?: string;
  /** its egress hosts, "." resolved (every namespace and host when it has none or there is no Sidecar) */
  readonly hosts: readonly string[];
  /** the policy in force: the Sidecar's, else the mesh default (--outbound-traffic-policy), else undefined (404 NR) */
  readonly outboundTrafficPolicy?: "ALLOW_ANY" | "REGISTRY_ONLY";
  /** services and VirtualServices in scope, of how many */
  readonly services: { inScope: number; total: number };
  readonly virtualServices: { inScope: number; total: number };
}

export interface OnDemand {
  /** hosts a request could reach by exact name through this route config */
  readonly hosts: number;
  /** the hosts compiled now, each with why (first request, carried over from the last table) */
  compiled(): { host: string; why: string }[];
}

export interface RouteTable {
  readonly version: number;
  readonly builtAt: string;
  readonly config: MeshConfig;
  readonly snapshot: RegistrySnapshot;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** sidecar outbound listener */
  readonly outbound: RouteConfig;
  /** gateway: one route config per Gateway server port number */
  readonly gatewayPorts: ReadonlyMap<number, RouteConfig>;
  /** gateway: the ports whose servers are TCP (compile-tcp.ts), not in gatewayPorts */
  readonly gatewayTcp: ReadonlyMap<number, TcpPortRoutes>;
  /** sidecar: "host:port" of each service port declared TCP → its routes (compile-tcp.ts) */
  readonly meshTcp: ReadonlyMap<string, TcpPortRoutes>;
}

/** The one mutable reference the listeners read; reload replaces `current` whole. */
export interface TableRef {
  current: RouteTable;
}

export function findVirtualHost(config: RouteConfig, host: string): VirtualHost | undefined {
  const exact = config.exact.get(host);
  if (exact) return exact;
  for (const w of config.wildcards) if (w.suffix === "" || host.endsWith(w.suffix)) return w.host;
  return undefined;
}
