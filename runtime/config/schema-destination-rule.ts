// DestinationRule spec (networking.istio.io v1alpha3/v1beta1/v1): traffic policy, subsets,
// connection pool, outlier detection, TLS. Shaped as types.ts's DestinationRuleSpec (tsc proves it).
import { z } from "zod";
import type { DestinationRuleSpec } from "./types.ts";
import { SECRET_NAME } from "../security/credential-source.ts";
import {
  bool, dnsLabel, duration, exportTo, honouredOnly, hostName, int32, nonNegativeInt, obj, rejected, rule, portSelector, str, stringList,
  stringMap,
} from "./schema-common.ts";

const consistentHash = obj({
  httpHeaderName: str.optional(),
  httpCookie: obj({
    name: str,
    // Envoy sets the cookie when a request lacks it (path, ttl); dietmesh only reads a cookie the
    // client already has (resilience/balancers/hash-key.ts), so asking for one to be made is refused
    path: rejected("httpCookie.path is not supported by dietmesh yet (it does not set the cookie, only reads it)"),
    ttl: rejected("httpCookie.ttl is not supported by dietmesh yet (it does not set the cookie, only reads it)"),
    attributes: rejected("httpCookie.attributes is not supported by dietmesh yet (the cookie would be set without them)"),
  }).optional(),
  useSourceIp: bool.optional(),
  httpQueryParameterName: str.optional(),
  ringHash: obj({ minimumRingSize: nonNegativeInt.optional() }).optional(),
  // served by the ring hash (resilience/balancers/index.ts): a table size would not be honoured
  maglev: obj({ tableSize: rejected("maglev.tableSize is not supported by dietmesh (maglev is served by its ring hash)") }).optional(),
  minimumRingSize: nonNegativeInt.optional(), // deprecated: ringHash.minimumRingSize
}).check(rule((ctx) => {
  const keys = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"] as const;
  const set = keys.filter((k) => ctx.value[k] !== undefined);
  if (set.length !== 1) {
    const got = set.length ? `got ${set.join(" and ")}` : "got none";
    ctx.issues.push({ code: "custom", input: ctx.value, message: `consistentHash needs exactly one of ${keys.join(", ")}; ${got}` });
  }
  if (ctx.value.ringHash && ctx.value.maglev) {
    ctx.issues.push({ code: "custom", input: ctx.value, path: ["maglev"], message: "only one of ringHash or maglev may be set" });
  }
}));

const loadBalancer = obj({
  simple: z.enum(["UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"]).optional(),
  consistentHash: consistentHash.optional(),
  // dietmesh's balancers know no localities or zones and do not ramp new hosts up: these would
  // change nothing, so they are refused rather than silently dropped
  localityLbSetting: rejected("localityLbSetting is not supported by dietmesh (its endpoints have no localities)"),
  zoneAwareLbSetting: rejected("zoneAwareLbSetting is not supported by dietmesh (its endpoints have no zones)"),
  warmupDurationSecs: rejected("warmupDurationSecs is not supported by dietmesh yet (new hosts get full traffic at once)"),
  warmup: rejected("warmup is not supported by dietmesh yet (new hosts get full traffic at once)"),
}).check(rule((ctx) => {
  if (ctx.value.simple && ctx.value.consistentHash) {
    ctx.issues.push({ code: "custom", input: ctx.value, path: ["consistentHash"], message: "only one of simple or consistentHash may be set" });
  }
  // Istio's PASSTHROUGH forwards to the address the caller dialled (an original-destination
  // cluster); dietmesh is addressed by host name and has no such address to forward to
  if (ctx.value.simple === "PASSTHROUGH") {
    ctx.issues.push({ code: "custom", input: ctx.value.simple, path: ["simple"], message: "simple PASSTHROUGH is not supported by dietmesh: it forwards to the address the caller dialled, and dietmesh has no original-destination cluster; use ROUND_ROBIN, LEAST_REQUEST or RANDOM over the known endpoints" });
  }
}));

const connectionPool = obj({
  tcp: obj({
    maxConnections: int32.optional(),
    connectTimeout: duration().optional(),
    tcpKeepalive: rejected("tcpKeepalive is not supported by dietmesh yet (no TCP keepalive probes are sent)"),
    maxConnectionDuration: rejected("maxConnectionDuration is not supported by dietmesh yet (connections are not closed by age)"),
    idleTimeout: duration({ allowZero: true }).optional(),
  }).optional(),
  http: obj({
    http1MaxPendingRequests: int32.optional(),
    http2MaxRequests: int32.optional(),
    maxRequestsPerConnection: int32.optional(),
    maxRetries: int32.optional(),
    idleTimeout: duration({ allowZero: true }).optional(),
    // UPGRADE: an HTTP port's requests go out on the HTTP/2 pool (upstream/http2/upgrade.ts);
    // DEFAULT is the mesh-wide default, DO_NOT_UPGRADE. dietmesh does not follow the client's protocol.
    h2UpgradePolicy: z.enum(["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]).optional(),
    useClientProtocol: honouredOnly(bool, (v) => !v, "useClientProtocol: true is not supported by dietmesh yet"),
    // streams per upstream HTTP/2 connection, capped further by the peer's SETTINGS (upstream/http2/pool.ts)
    maxConcurrentStreams: z.int().min(1).max(2 ** 31 - 1).optional(),
    http2KeepAlive: rejected("http2KeepAlive is not supported by dietmesh yet (no HTTP/2 keepalive pings are sent)"),
  }).optional(),
});

const outlierDetection = obj({
  splitExternalLocalOriginErrors: bool.optional(),
  consecutiveLocalOriginFailures: nonNegativeInt.optional(),
  consecutiveGatewayErrors: nonNegativeInt.optional(),
  consecutive5xxErrors: nonNegativeInt.optional(),
  consecutiveErrors: int32.optional(), // deprecated: counts as gateway errors
  interval: duration().optional(),
  baseEjectionTime: duration().optional(),
  maxEjectionPercent: z.int().min(0).max(100).optional(),
  minHealthPercent: z.int().min(0).max(100).optional(),
  outlierDetectionHttpErrorCodes: rejected("outlierDetectionHttpErrorCodes is not supported by dietmesh yet (5xx and gateway errors are what count)"),
});

const tls = obj({
  // SIMPLE and MUTUAL: TLS origination with the files named here (upstream/upstream-tls.ts)
  mode: z.enum(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]).optional(),
  clientCertificate: str.optional(),
  privateKey: str.optional(),
  caCertificates: str.optional(),
  // a Secret by name: from --credentials-dir or, with --registry kubernetes, the proxy's namespace
  // (security/credential-source.ts); a proxy with neither refuses it at start (cli/credential-setup.ts)
  credentialName: str.regex(SECRET_NAME, 'expected the name of a Secret (lower-case letters, digits, "-", ".")').optional(),
  subjectAltNames: stringList.optional(),
  sni: str.optional(),
  insecureSkipVerify: bool.optional(),
  // skipping revocation checks the user asked for would fail open
  caCrl: rejected("caCrl is not supported by dietmesh yet; certificate revocation lists cannot be checked"),
}).check(rule((ctx) => {
  const v = ctx.value;
  // Istio reads a tls without mode as DISABLE: plaintext, and auto mTLS off for the host. Taken
  // silently, a block written only for sni or subjectAltNames would turn mTLS off; auto mTLS in its
  // place would not be what Istio does. Refused, so the author says which one is meant.
  if (v.mode === undefined) {
    ctx.issues.push({ code: "custom", input: v, path: ["mode"], message: "tls without mode is not supported by dietmesh: Istio reads it as mode DISABLE (plaintext, auto mTLS off). Set mode (DISABLE, ISTIO_MUTUAL, SIMPLE or MUTUAL), or leave tls out for auto mTLS" });
    return;
  }
  if (v.credentialName !== undefined) {
    // one source of material: a credential and files together would leave which one wins to guesswork
    for (const field of ["clientCertificate", "privateKey", "caCertificates"] as const) {
      if (v[field] !== undefined) ctx.issues.push({ code: "custom", input: v, path: [field], message: `${field} and credentialName both name the client's material; set one` });
    }
    return;
  }
  if (v.mode !== "MUTUAL") return;
  for (const field of ["clientCertificate", "privateKey"] as const) {
    if (!v[field]) ctx.issues.push({ code: "custom", input: v, path: [field], message: `mode MUTUAL needs ${field} (a PEM file)` });
  }
}));

const policyFields = {
  loadBalancer: loadBalancer.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: tls.optional(),
};

// UPGRADE sends HTTP/2; dietmesh has no HTTP/2 over TLS origination (upstream/http2/refusal.ts), so
// the two in one policy are refused here rather than failing every request
const upgradeWithOrigination = rule((ctx) => {
  const v = ctx.value as { connectionPool?: { http?: { h2UpgradePolicy?: string } }; tls?: { mode?: string } };
  if (v.connectionPool?.http?.h2UpgradePolicy !== "UPGRADE" || (v.tls?.mode !== "SIMPLE" && v.tls?.mode !== "MUTUAL")) return;
  ctx.issues.push({
    code: "custom",
    input: v.connectionPool.http.h2UpgradePolicy,
    path: ["connectionPool", "http", "h2UpgradePolicy"],
    message: `h2UpgradePolicy UPGRADE with tls mode ${v.tls.mode} is not supported by dietmesh yet (HTTP/2 over TLS origination is not built)`,
  });
});

const portTrafficPolicy = obj({ port: portSelector.optional(), ...policyFields }).check(upgradeWithOrigination);

const trafficPolicy = obj({
  ...policyFields,
  portLevelSettings: z.array(portTrafficPolicy).max(4096).optional(),
  tunnel: rejected("tunnel is not supported by dietmesh yet (traffic would not be tunnelled)"),
  proxyProtocol: rejected("proxyProtocol is not supported by dietmesh yet (no PROXY header would be sent)"),
  retryBudget: rejected("retryBudget is not supported by dietmesh yet; use connectionPool.http.maxRetries"),
}).check(upgradeWithOrigination);

const subset = obj({ name: dnsLabel, labels: stringMap.optional(), trafficPolicy: trafficPolicy.optional() });

export const destinationRuleSpec = obj({
  host: hostName,
  trafficPolicy: trafficPolicy.optional(),
  subsets: z.array(subset).optional(),
  exportTo,
  // Istio's WorkloadSelector: the proxies of the rule's namespace whose labels include these
  workloadSelector: obj({ matchLabels: stringMap.optional() }).optional(),
}).check(rule((ctx) => {
  // two subsets with one name would make routes to it ambiguous
  const seen = new Set<string>();
  ctx.value.subsets?.forEach((s, i) => {
    if (seen.has(s.name)) {
      ctx.issues.push({ code: "custom", input: s.name, path: ["subsets", i, "name"], message: `subset ${JSON.stringify(s.name)} is defined twice` });
    }
    seen.add(s.name);
  });
})) satisfies z.ZodType<DestinationRuleSpec>;
