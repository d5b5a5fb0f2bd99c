// zod schemas for the Istio kinds dietmesh reads: networking.istio.io (v1alpha3, v1beta1, v1)
// Gateway, ServiceEntry and WorkloadEntry here, VirtualService and DestinationRule in their own
// files; security.istio.io (v1beta1, v1) in schema-security.ts. Unknown fields are errors, as the
// CRDs make them; the annotation on specSchemas makes tsc prove every output fits types.ts.
import { z } from "zod";
import type {
  AuthorizationPolicySpec, DestinationRuleSpec, GatewaySpec, PeerAuthenticationSpec, RequestAuthenticationSpec, ServiceEntrySpec,
  SidecarSpec, VirtualServiceSpec, WorkloadEntrySpec,
} from "./types.ts";
import {
  bool, dnsLabel, exportTo, honouredOnly, int32, metadata, obj, rejected, rule, port, str, stringList, stringMap,
} from "./schema-common.ts";
import { virtualServiceSpec } from "./schema-virtual-service.ts";
import { parseIp, parseIpBlock } from "../security/policy/ip-block.ts";
import { isCertificateHash, isSpkiHash } from "../security/client-certificates.ts";
import { destinationRuleSpec } from "./schema-destination-rule.ts";
import { securitySpecSchemas } from "./schema-security.ts";
import { sidecarSpec } from "./schema-sidecar.ts";
import { ACCESS_LOG_PROVIDER } from "../telemetry/telemetry-resource.ts";

export { virtualServiceSpec, destinationRuleSpec };

export const NETWORKING_GROUP = "networking.istio.io";
export const NETWORKING_VERSIONS = ["v1alpha3", "v1beta1", "v1"] as const;
export const SECURITY_GROUP = "security.istio.io";
export const SECURITY_VERSIONS = ["v1beta1", "v1"] as const;

// Istio parses these case-insensitively; anything else is "invalid protocol" on a Gateway
const PROTOCOLS = ["HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "HTTP_PROXY", "MONGO", "REDIS", "MYSQL", "TCP", "TLS", "UDP"];
const protocol = z.string().refine((p) => PROTOCOLS.includes(p.toUpperCase()), {
  error: (i) => `expected a protocol (${PROTOCOLS.join(", ")}), got ${JSON.stringify(i.input)}`,
});

/**
 * What a ServiceEntry port may declare: Istio's protocols less UDP. dietmesh carries the HTTP
 * family by Host header (HTTP2, GRPC and GRPC-WEB upstream as h2), the TCP family (TCP, MONGO, REDIS, MYSQL)
 * and TLS/HTTPS through CONNECT tunnels (filters/connect.ts), all over TCP; a UDP port would be
 * served as HTTP. Istio refuses the others ("unsupported protocol"), so does dietmesh.
 */
const SERVICE_PROTOCOLS = PROTOCOLS.filter((p) => p !== "UDP");
const UDP_REFUSED = "protocol UDP is not supported by dietmesh: it carries HTTP, TCP and TLS, all over TCP, and would serve the port as HTTP";
const serviceProtocol = z.string().check((ctx) => {
  const p = ctx.value.toUpperCase();
  const message = p === "UDP" ? UDP_REFUSED : SERVICE_PROTOCOLS.includes(p) ? undefined : `expected a protocol dietmesh serves (${SERVICE_PROTOCOLS.join(", ")}), got ${JSON.stringify(ctx.value)}`;
  if (message) ctx.issues.push({ code: "custom", input: ctx.value, message });
});

/** a host with no scheme or port, "*.example.com" allowed */
function plainHost(h: string): string | undefined {
  if (h === "") return "host must not be empty";
  if (/[:/\s]/.test(h)) return `expected a host name such as "example.com" or "*.example.com" (no scheme or port), got ${JSON.stringify(h)}`;
  return undefined;
}

/** Gateway server hosts: "host", "ns/host", "*\/host" or "./host" */
const gatewayHost = z.string().check((ctx) => {
  const slash = ctx.value.indexOf("/");
  const ns = slash === -1 ? undefined : ctx.value.slice(0, slash);
  const problem =
    ns !== undefined && ns !== "*" && ns !== "." && !dnsLabel.safeParse(ns).success
      ? `expected "namespace/host" with a namespace, "*" or ".", got ${JSON.stringify(ctx.value)}`
      : plainHost(ctx.value.slice(slash + 1));
  if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
});

const tlsProtocol = z.enum(["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"]);
const serverTls = obj({
  httpsRedirect: bool.optional(),
  mode: z.enum(["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"]).optional(),
  serverCertificate: str.optional(),
  privateKey: str.optional(),
  caCertificates: str.optional(),
  caCrl: str.optional(),
  credentialName: str.optional(),
  credentialNames: stringList.min(1).max(2).optional(),
  caCertCredentialName: str.optional(),
  tlsCertificates: z
    .array(obj({ serverCertificate: str.optional(), privateKey: str.optional(), caCertificates: str.optional() }))
    .min(1)
    .max(2)
    .optional(),
  subjectAltNames: stringList.optional(),
  verifyCertificateSpki: stringList.optional(),
  verifyCertificateHash: stringList.optional(),
  minProtocolVersion: tlsProtocol.optional(),
  maxProtocolVersion: tlsProtocol.optional(),
  cipherSuites: stringList.optional(),
  insecureSkipVerify: bool.optional(),
});

const server = obj({
  port: obj({ number: port, protocol, name: str, targetPort: rejected("targetPort applies to ServiceEntry ports, not Gateway servers (Istio ignores it here)") }),
  bind: rejected("bind is not supported by dietmesh; the gateway's --bind flag chooses addresses"),
  hosts: z.array(gatewayHost).min(1, { error: "a server needs at least one host" }),
  tls: serverTls.optional(),
  defaultEndpoint: rejected("defaultEndpoint is not supported by dietmesh (it belongs to Sidecar ingress listeners)"),
  name: str.optional(),
}).check(rule((ctx) => serverTlsHonesty(ctx.value, (path, message) => ctx.issues.push({ code: "custom", input: ctx.value, path, message }))));

/** server.tls fields dietmesh's gateway cannot serve yet: refused, never served without them */
const TLS_NOT_BUILT = ["caCrl", "credentialNames", "caCertCredentialName", "tlsCertificates"] as const;
/** what verifies client certificates: meaningless without one (SIMPLE), refused rather than ignored */
const CLIENT_CHECKS = ["caCertificates", "subjectAltNames", "verifyCertificateSpki", "verifyCertificateHash"] as const;
const TERMINATING = ["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL"];
/** a Secret's name, as credentialName must be to name a folder or a Secret */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function serverTlsHonesty(server: { port: { protocol: string }; tls?: Record<string, unknown> }, fail: (path: (string | number)[], message: string) => void): void {
  const protocol = server.port.protocol.toUpperCase();
  const tls = server.tls;
  if (protocol === "HTTPS") {
    const mode = tls?.mode as string | undefined;
    if (mode === undefined) return fail(["tls"], "an HTTPS server needs tls with a mode (SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL) and its certificate");
    if (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH") return; // not terminated: judged with the L4 servers (l4-honesty.ts)
    if (!TERMINATING.includes(mode)) return fail(["tls", "mode"], `tls.mode ${mode} is not supported by dietmesh's gateway; HTTPS servers take SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL or PASSTHROUGH`);
    const t = tls!;
    for (const field of TLS_NOT_BUILT) {
      if (t[field] !== undefined) fail(["tls", field], `tls.${field} is not supported by dietmesh's gateway yet; use serverCertificate, privateKey and caCertificates files or credentialName`);
    }
    if (t.insecureSkipVerify !== undefined) fail(["tls", "insecureSkipVerify"], "tls.insecureSkipVerify applies to DestinationRules (origination), not Gateway servers");
    if (t.httpsRedirect) fail(["tls", "httpsRedirect"], "httpsRedirect belongs on the HTTP server of the same hosts");
    if (mode === "ISTIO_MUTUAL") {
      // Istio's own rule: the mesh identity is the certificate, the mesh root the CA
      for (const field of ["serverCertificate", "privateKey", "caCertificates", "credentialName"] as const) {
        if (t[field] !== undefined) fail(["tls", field], `tls.mode ISTIO_MUTUAL uses the gateway's mesh certificate and root; ${field} may not be set`);
      }
      return;
    }
    if (mode === "SIMPLE") {
      for (const field of CLIENT_CHECKS) {
        if (t[field] !== undefined) fail(["tls", field], `tls.${field} checks client certificates, which tls.mode SIMPLE does not ask for; use MUTUAL or OPTIONAL_MUTUAL`);
      }
    }
    if (typeof t.credentialName === "string") {
      if (!SECRET_NAME.test(t.credentialName)) fail(["tls", "credentialName"], `expected the name of a Secret (lower-case letters, digits, "-", "."), got ${JSON.stringify(t.credentialName)}`);
      for (const field of ["serverCertificate", "privateKey", "caCertificates"] as const) {
        if (t[field] !== undefined) fail(["tls", field], `tls.${field} and tls.credentialName both name the server's material; set one`);
      }
    } else {
      if (typeof t.serverCertificate !== "string") fail(["tls", "serverCertificate"], `an HTTPS server with tls.mode ${mode} needs serverCertificate (a PEM file) or credentialName`);
      if (typeof t.privateKey !== "string") fail(["tls", "privateKey"], `an HTTPS server with tls.mode ${mode} needs privateKey (a PEM file) or credentialName`);
      if (mode !== "SIMPLE" && typeof t.caCertificates !== "string") fail(["tls", "caCertificates"], `tls.mode ${mode} needs caCertificates (a PEM file) or credentialName`);
    }
    (t.verifyCertificateHash as string[] | undefined)?.forEach((h, i) => {
      if (!isCertificateHash(h)) fail(["tls", "verifyCertificateHash", i], `expected a hex SHA-256 of a certificate (64 hex digits, colons allowed), got ${JSON.stringify(h)}`);
    });
    (t.verifyCertificateSpki as string[] | undefined)?.forEach((h, i) => {
      if (!isSpkiHash(h)) fail(["tls", "verifyCertificateSpki", i], `expected a base64 SHA-256 of a public key (44 characters), got ${JSON.stringify(h)}`);
    });
    return;
  }
  if (!tls) return;
  if (protocol === "TLS") return; // passthrough and TLS termination of TCP: judged with the TCP servers
  for (const [field, value] of Object.entries(tls)) {
    if (value === undefined) continue;
    if (field === "httpsRedirect") continue; // a 301 to https for the server's hosts (model/compile.ts)
    fail(["tls", field], `tls.${field} on a ${protocol} server: TLS settings need protocol HTTPS (or TLS)`);
  }
}

const gatewaySpec = obj({
  servers: z.array(server).min(1, { error: "a Gateway needs at least one server" }),
  selector: stringMap.default({}),
});

const PORT_NAME = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const workloadEntrySpec = obj({
  address: str.max(256).optional(),
  ports: z.record(z.string(), port).optional(),
  labels: stringMap.optional(),
  network: rejected("network is not supported by dietmesh (one network; no network gateways)"),
  locality: rejected("locality is not supported by dietmesh (its balancers have no locality preference)"),
  weight: int32.optional(),
  serviceAccount: str.optional(),
}).check(rule((ctx) => {
  const v = ctx.value;
  if (v.address === undefined && v.network === undefined) {
    ctx.issues.push({ code: "custom", input: v, path: ["address"], message: "address is required (or network)" });
  }
  if (v.address?.startsWith("unix://") && v.ports) {
    ctx.issues.push({ code: "custom", input: v, path: ["ports"], message: "a unix:// address may not have ports" });
  }
  for (const name of Object.keys(v.ports ?? {})) {
    if (name.length >= 63 || !PORT_NAME.test(name)) {
      ctx.issues.push({ code: "custom", input: name, path: ["ports", name], message: `expected a port name (letters, digits, "-"), got ${JSON.stringify(name)}` });
    }
  }
}));

const serviceEntrySpec = obj({
  hosts: z.array(z.string().check((ctx) => {
    const problem = ctx.value === "*" ? `host "*" is not allowed in a ServiceEntry` : plainHost(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  })).min(1, { error: "a ServiceEntry needs at least one host" }).max(256),
  // Istio's VIPs. dietmesh captures no traffic: an app names what it calls (a Host header, CONNECT
  // host:port), so a VIP is one more name of the service (model/compile.ts serviceDomains); a range
  // cannot be a name and is refused
  addresses: z.array(str.max(64).check((ctx) => {
    const problem = vipProblem(ctx.value);
    if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
  })).max(256).optional(),
  ports: z.array(obj({ number: port, protocol: serviceProtocol.optional(), name: str, targetPort: port.optional() })).max(256).optional(),
  location: z.enum(["MESH_EXTERNAL", "MESH_INTERNAL"]).optional(),
  resolution: z.enum(["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"]).optional(),
  endpoints: z.array(workloadEntrySpec).max(4096).optional(),
  workloadSelector: obj({ labels: stringMap.optional() }).optional(),
  exportTo,
  subjectAltNames: rejected("ServiceEntry subjectAltNames is not supported by dietmesh yet; use DestinationRule tls.subjectAltNames"),
}).check(rule((ctx) => {
  // the CRD's CEL rules, in the same words
  const v = ctx.value;
  const add = (message: string, path: PropertyKey[]) => ctx.issues.push({ code: "custom", input: v, path, message });
  const resolution = v.resolution ?? "NONE";
  v.ports?.forEach((p, i) => {
    if (v.ports!.findIndex((q) => q.number === p.number) !== i) add(`port number ${p.number} is defined twice`, ["ports", i, "number"]);
    // without protocol, the name's "<protocol>[-suffix]" declares it (adapters/static/from-config.ts)
    if (p.protocol === undefined && p.name.toLowerCase().split("-")[0] === "udp") add(`port name ${JSON.stringify(p.name)} declares UDP (Istio's "<protocol>-<suffix>" naming); ${UDP_REFUSED}`, ["ports", i, "name"]);
  });
  if (v.workloadSelector && v.endpoints) add("only one of workloadSelector or endpoints may be set", ["endpoints"]);
  if (resolution === "NONE" && v.endpoints) add("resolution NONE (the default) cannot have endpoints; set resolution: STATIC or DNS", ["endpoints"]);
  if (resolution === "DNS_ROUND_ROBIN" && (v.endpoints?.length ?? 0) > 1) add("DNS_ROUND_ROBIN cannot have more than one endpoint", ["endpoints"]);
  if ((resolution === "DNS" || resolution === "DNS_ROUND_ROBIN") && !v.endpoints?.length) {
    // Istio's own rule: the host is the name resolved, so it must be one
    v.hosts.forEach((h, i) => {
      if (h.includes("*")) add(`hosts must be FQDN if no endpoints are provided for resolution mode ${resolution} (${JSON.stringify(h)} is a wildcard)`, ["hosts", i]);
    });
  }
  if (resolution === "NONE" && !v.workloadSelector) noneToAuthority(v, add);
}));

/**
 * resolution NONE without endpoints: Istio passes the connection to its original destination. An
 * app calls dietmesh's outbound listener itself, so there is none; dietmesh connects to the host
 * the request names, resolved (adapters/static/from-config.ts). What that cannot honour is refused.
 */
function noneToAuthority(v: { hosts: string[]; ports?: { targetPort?: number }[] }, add: (message: string, path: PropertyKey[]) => void): void {
  v.hosts.forEach((h, i) => {
    if (!h.includes("*")) return;
    add(`${JSON.stringify(h)} with resolution NONE (the default) and no endpoints: Istio would pass each connection to the address the app dialled; dietmesh is called by name and connects to the ServiceEntry's own host, which a wildcard is not. List the hosts by name, or give a workloadSelector, or endpoints with resolution STATIC or DNS`, ["hosts", i]);
  });
  v.ports?.forEach((p, i) => {
    if (p.targetPort !== undefined) add("targetPort has no use with resolution NONE and no endpoints: the connection goes to the port the request names (Istio's original destination port); remove it, or give endpoints", ["ports", i, "targetPort"]);
  });
}

const accessLogProvider = obj({
  name: honouredOnly(str, (name) => name === ACCESS_LOG_PROVIDER, `expected the provider "envoy": dietmesh's one access log (stdout, in --access-log's format, text when the flag is off); extension providers live in meshConfig, which dietmesh does not read`),
});
const metricsProvider = obj({
  name: honouredOnly(str, (name) => name === "prometheus", `expected the provider "prometheus": dietmesh's metrics are its /stats/prometheus, always on`),
});

/**
 * telemetry.istio.io Telemetry: validated here, kept as written (MeshConfig.other) and read by
 * telemetry/telemetry-resource.ts. What dietmesh cannot honour is refused with its path.
 */
export const telemetrySpec = obj({
  selector: obj({ matchLabels: stringMap.optional() }).optional(),
  targetRef: rejected("targetRef is not supported by dietmesh (it tracks no Gateway API resources or Services to attach to); use selector.matchLabels"),
  targetRefs: rejected("targetRefs is not supported by dietmesh (it tracks no Gateway API resources or Services to attach to); use selector.matchLabels"),
  tracing: z.array(obj({
    // a provider is defined in meshConfig, which dietmesh does not read: spans go to the proxy's one
    // OTLP exporter (--otlp-endpoint or OTEL_EXPORTER_OTLP_*), whatever the name (docs/observability.md)
    providers: z.array(obj({ name: str })).optional(),
    randomSamplingPercentage: z.number().min(0).max(100).optional(),
    disableSpanReporting: bool.optional(),
    match: obj({ mode: z.enum(["CLIENT", "SERVER", "CLIENT_AND_SERVER"]) }).optional(),
    customTags: rejected("customTags are not supported by dietmesh: its spans carry a fixed set of attributes"),
    useRequestIdForTraceSampling: rejected("useRequestIdForTraceSampling is not supported by dietmesh: a new trace is sampled by a random draw, and a caller's decision is kept"),
    enableIstioTags: rejected("enableIstioTags is not supported by dietmesh: its spans carry a fixed set of attributes"),
  })).optional(),
  metrics: z.array(obj({
    providers: z.array(metricsProvider).optional(),
    overrides: rejected("metrics overrides are not supported by dietmesh: its Istio metrics keep their standard names, tags and on/off state"),
    reportingInterval: rejected("reportingInterval is not supported by dietmesh: its metrics are read when Prometheus scrapes"),
  })).optional(),
  accessLogging: z.array(obj({
    providers: z.array(accessLogProvider).optional(),
    disabled: bool.optional(),
    match: obj({
      // CLIENT: the outbound side and a gateway (Istio's reporter=source side); SERVER: the inbound side
      mode: z.enum(["CLIENT", "SERVER", "CLIENT_AND_SERVER"]),
    }).optional(),
    filter: rejected("filter is not supported by dietmesh (it does not evaluate CEL), so every request would be logged; remove it, or turn the log off with disabled: true"),
  })).optional(),
});

export interface SpecOf {
  Gateway: GatewaySpec;
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Sidecar: SidecarSpec;
  PeerAuthentication: PeerAuthenticationSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  RequestAuthentication: RequestAuthenticationSpec;
}
/** every kind dietmesh validates, networking and security */
export type IstioKind = keyof SpecOf;
export type SecurityKind = "PeerAuthentication" | "AuthorizationPolicy" | "RequestAuthentication";
export type NetworkingKind = Exclude<IstioKind, SecurityKind>;

export const specSchemas: { [K in IstioKind]: z.ZodType<SpecOf[K]> } = {
  Gateway: gatewaySpec,
  VirtualService: virtualServiceSpec,
  DestinationRule: destinationRuleSpec,
  ServiceEntry: serviceEntrySpec,
  WorkloadEntry: workloadEntrySpec,
  Sidecar: sidecarSpec,
  ...securitySpecSchemas,
};

const GROUP_OF: { [K in IstioKind]: string } = {
  Gateway: NETWORKING_GROUP,
  VirtualService: NETWORKING_GROUP,
  DestinationRule: NETWORKING_GROUP,
  ServiceEntry: NETWORKING_GROUP,
  WorkloadEntry: NETWORKING_GROUP,
  Sidecar: NETWORKING_GROUP,
  PeerAuthentication: SECURITY_GROUP,
  AuthorizationPolicy: SECURITY_GROUP,
  RequestAuthentication: SECURITY_GROUP,
};

export function isNetworkingKind(kind: string): kind is NetworkingKind {
  return Object.hasOwn(GROUP_OF, kind) && GROUP_OF[kind as IstioKind] === NETWORKING_GROUP;
}

/** the validated kind an apiVersion group and kind name stand for, if dietmesh validates it */
export function istioKind(group: string, kind: string): IstioKind | undefined {
  return Object.hasOwn(GROUP_OF, kind) && GROUP_OF[kind as IstioKind] === group ? (kind as IstioKind) : undefined;
}

const envelopeFor = (group: string, versions: readonly string[]) =>
  obj({
    apiVersion: z.enum(versions.map((v) => `${group}/${v}`)),
    kind: z.string(),
    metadata,
    spec: z.record(z.string(), z.unknown()),
    status: z.unknown().optional(), // written by the cluster; ignored
  });
const envelopes: Record<string, ReturnType<typeof envelopeFor>> = {
  [NETWORKING_GROUP]: envelopeFor(NETWORKING_GROUP, NETWORKING_VERSIONS),
  [SECURITY_GROUP]: envelopeFor(SECURITY_GROUP, SECURITY_VERSIONS),
};

export interface ParsedResource<K extends IstioKind> {
  apiVersion: string;
  metadata: z.output<typeof metadata>; // namespace still optional: the loader fills it
  spec: SpecOf[K];
}

/** checks a whole resource of a validated kind; issue paths start at the resource's root */
export function parseResource<K extends IstioKind>(
  kind: K,
  value: unknown,
  params: z.core.ParseContext<z.core.$ZodIssue>,
): { success: true; data: ParsedResource<K> } | { success: false; issues: z.core.$ZodIssue[] } {
  const outer = envelopes[GROUP_OF[kind]].safeParse(value, params);
  if (!outer.success) return { success: false, issues: outer.error.issues };
  const spec = specSchemas[kind].safeParse(outer.data.spec, params);
  if (!spec.success) return { success: false, issues: spec.error.issues.map((i) => ({ ...i, path: ["spec", ...i.path] })) };
  return { success: true, data: { apiVersion: outer.data.apiVersion, metadata: outer.data.metadata, spec: spec.data } };
}

/** why a ServiceEntry address cannot be a name apps call the service by; undefined when it can */
function vipProblem(text: string): string | undefined {
  const slash = text.indexOf("/");
  if (slash === -1) return parseIp(text) ? undefined : `expected an IP address, got ${JSON.stringify(text)}`;
  const block = parseIpBlock(text);
  if (!block) return `expected an IP address or CIDR block, got ${JSON.stringify(text)}`;
  const single = text.slice(slash + 1) === (text.includes(":") ? "128" : "32");
  return single
    ? undefined
    : `address range ${text} is not supported by dietmesh: it captures no traffic, so a ServiceEntry address is a name an app calls (Host or CONNECT host:port), and a range cannot be one; list single addresses`;
}
