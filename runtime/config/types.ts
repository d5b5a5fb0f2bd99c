// The Istio resources dietmesh reads, as plain data after validation (runtime/config/schemas.ts
// checks YAML against these shapes). Field names are Istio's own (istio/api networking v1alpha3,
// v1beta1, v1; security v1beta1, v1), so a user's YAML maps one to one. The one change: durations ("1s", "5.000s",
// "100ms") are parsed to milliseconds at load.

/** milliseconds */
export type Duration = number;

export interface ObjectMeta {
  name: string;
  namespace: string; // filled with the loader's default namespace when the YAML omits it
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp?: string;
}

/** Where a resource came from, for error messages and /config_dump. */
export interface Origin {
  file: string;
  /** 0-based index of the YAML document within the file */
  document: number;
}

export interface Resource<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  origin: Origin;
}

// ---------- shared ----------

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface PortSelector {
  number?: number;
}

export interface Percent {
  value: number; // 0..100
}

// ---------- Gateway ----------

export interface GatewayServer {
  port: { number: number; name?: string; protocol: string; targetPort?: unknown }; // targetPort refused at load
  bind?: unknown; // refused at load
  hosts: string[]; // may be "ns/host", "*/host", "./host"
  tls?: Record<string, unknown>;
  name?: string;
}

export interface GatewaySpec {
  selector: Record<string, string>;
  servers: GatewayServer[];
}

// ---------- VirtualService ----------

export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch>; // {} means "present"
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  queryParams?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
  withoutHeaders?: Record<string, StringMatch>;
  sourceNamespace?: string;
  statPrefix?: unknown; // refused at load
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export interface HTTPRouteDestination {
  destination: Destination;
  weight?: number;
  headers?: Headers;
}

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  derivePort?: "FROM_PROTOCOL_DEFAULT" | "FROM_REQUEST_PORT";
  scheme?: string;
  redirectCode?: number;
}

export interface RegexRewrite {
  match: string;
  rewrite: string;
}

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  uriRegexRewrite?: RegexRewrite;
}

export interface HTTPDirectResponse {
  status: number;
  body?: { string?: string; bytes?: string };
}

export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: Duration;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  /** Istio's default true (avoid hosts already tried); only true is accepted */
  retryIgnorePreviousHosts?: boolean;
  /** the base interval of the jittered exponential backoff (Envoy's default 25ms) */
  backoff?: Duration;
}

export interface HTTPFaultInjection {
  delay?: { fixedDelay: Duration; percentage?: Percent; percent?: number };
  abort?: { httpStatus?: number; grpcStatus?: string; percentage?: Percent; percent?: number };
}

export interface HTTPMirrorPolicy {
  destination: Destination;
  percentage?: Percent;
}

export interface CorsPolicy {
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: Duration;
  allowCredentials?: boolean;
  unmatchedPreflights?: "UNSPECIFIED" | "FORWARD" | "IGNORE";
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
  delegate?: unknown; // refused at load
  rewrite?: HTTPRewrite;
  timeout?: Duration;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrorPercentage?: Percent;
  mirrors?: HTTPMirrorPolicy[];
  corsPolicy?: CorsPolicy;
  headers?: Headers;
}

export interface VirtualServiceSpec {
  hosts: string[];
  gateways?: string[];
  http: HTTPRoute[];
  tcp?: unknown[];
  tls?: unknown[];
  exportTo?: string[];
}

// ---------- DestinationRule ----------

export interface ConnectionPoolSettings {
  tcp?: {
    maxConnections?: number;
    connectTimeout?: Duration;
    tcpKeepalive?: unknown; // refused at load
    maxConnectionDuration?: unknown; // refused at load
    idleTimeout?: Duration;
  };
  http?: {
    http1MaxPendingRequests?: number;
    http2MaxRequests?: number;
    maxRequestsPerConnection?: number;
    maxRetries?: number;
    idleTimeout?: Duration;
    h2UpgradePolicy?: "DEFAULT" | "DO_NOT_UPGRADE" | "UPGRADE";
    useClientProtocol?: boolean;
    maxConcurrentStreams?: number;
  };
}

export interface OutlierDetection {
  splitExternalLocalOriginErrors?: boolean;
  consecutiveLocalOriginFailures?: number;
  consecutiveGatewayErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveErrors?: number; // deprecated: maps to gateway errors
  interval?: Duration;
  baseEjectionTime?: Duration;
  maxEjectionPercent?: number;
  minHealthPercent?: number;
}

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: { name: string; path?: unknown; ttl?: unknown }; // path and ttl refused at load
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: { minimumRingSize?: number };
  maglev?: { tableSize?: unknown }; // tableSize refused at load
  minimumRingSize?: number;
}

export interface LoadBalancerSettings {
  simple?: "UNSPECIFIED" | "LEAST_CONN" | "RANDOM" | "PASSTHROUGH" | "ROUND_ROBIN" | "LEAST_REQUEST";
  consistentHash?: ConsistentHashLB;
}

export interface ClientTLSSettings {
  mode?: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  /** a Secret by name (--credentials-dir or --registry kubernetes): CA for SIMPLE, client pair (+ CA) for MUTUAL */
  credentialName?: string;
  subjectAltNames?: string[];
  sni?: string;
  insecureSkipVerify?: boolean;
}

export interface TrafficPolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  tls?: ClientTLSSettings;
  portLevelSettings?: Array<Omit<TrafficPolicy, "portLevelSettings"> & { port?: PortSelector }>;
}

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  /** the rule applies only to the proxies of its namespace with these labels (model/destination-rules.ts) */
  workloadSelector?: { matchLabels?: Record<string, string> };
}

// ---------- ServiceEntry / WorkloadEntry ----------

export interface ServicePort {
  number: number;
  protocol?: string;
  name: string;
  targetPort?: number;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
  network?: unknown; // refused at load
  locality?: unknown; // refused at load
  weight?: number;
  serviceAccount?: string;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePort[];
  location?: "MESH_EXTERNAL" | "MESH_INTERNAL";
  resolution?: "NONE" | "STATIC" | "DNS" | "DNS_ROUND_ROBIN";
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: { labels?: Record<string, string> };
  exportTo?: string[];
  subjectAltNames?: unknown; // refused at load
}

// ---------- security.istio.io: PeerAuthentication, AuthorizationPolicy, RequestAuthentication ----------

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

/** kept so a notice can name it; dietmesh attaches targetRef policies to no workload (see schema-security.ts) */
export interface PolicyTargetReference {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export type MutualTLSMode = "UNSET" | "DISABLE" | "PERMISSIVE" | "STRICT";

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: MutualTLSMode };
  /** keyed by port number as written ("8080"); only with a non-empty selector */
  portLevelMtls?: Record<string, { mode?: MutualTLSMode }>;
}

export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  rules?: AuthorizationRule[];
  /** CUSTOM is refused at load: dietmesh has no external authorization */
  action?: "ALLOW" | "DENY" | "AUDIT";
}

export interface JWTRule {
  issuer?: string;
  audiences?: string[];
  jwksUri?: string;
  /** an inline JWK set, as JSON text */
  jwks?: string;
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: { header: string; claim: string }[];
  /** JWKS fetch timeout */
  timeout?: Duration;
  spaceDelimitedClaims?: string[];
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JWTRule[];
}

// ---------- networking.istio.io Sidecar (schema-sidecar.ts; model/sidecar-scope.ts applies it) ----------

export interface SidecarEgressListener {
  port?: unknown; // refused at load
  bind?: unknown; // refused at load
  captureMode?: unknown; // refused at load
  /** "namespace/dnsName" */
  hosts: string[];
}

export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  ingress?: unknown; // refused at load
  egress?: SidecarEgressListener[];
  inboundConnectionPool?: unknown; // refused at load
  outboundTrafficPolicy?: { mode?: "REGISTRY_ONLY" | "ALLOW_ANY"; egressProxy?: unknown };
}

export type Gateway = Resource<"Gateway", GatewaySpec>;
export type VirtualService = Resource<"VirtualService", VirtualServiceSpec>;
export type DestinationRule = Resource<"DestinationRule", DestinationRuleSpec>;
export type ServiceEntry = Resource<"ServiceEntry", ServiceEntrySpec>;
export type WorkloadEntry = Resource<"WorkloadEntry", WorkloadEntrySpec>;
export type Sidecar = Resource<"Sidecar", SidecarSpec>;

export type PeerAuthentication = Resource<"PeerAuthentication", PeerAuthenticationSpec>;
export type AuthorizationPolicy = Resource<"AuthorizationPolicy", AuthorizationPolicySpec>;
export type RequestAuthentication = Resource<"RequestAuthentication", RequestAuthenticationSpec>;

export type NetworkingResource = Gateway | VirtualService | DestinationRule | ServiceEntry | WorkloadEntry | Sidecar;
export type SecurityResource = PeerAuthentication | AuthorizationPolicy | RequestAuthentication;

/** Everything a set of YAML files said, validated; immutable once built. */
export interface MeshConfig {
  readonly gateways: readonly Gateway[];
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly serviceEntries: readonly ServiceEntry[];
  readonly workloadEntries: readonly WorkloadEntry[];
  readonly sidecars: readonly Sidecar[];
  readonly peerAuthentications: readonly PeerAuthentication[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly requestAuthentications: readonly RequestAuthentication[];
  /** telemetry.istio.io Telemetry, kept as written: telemetry/telemetry-resource.ts reads it (every other unbuilt Istio kind is refused at load) */
  readonly other: readonly Resource<string, unknown>[];
}
