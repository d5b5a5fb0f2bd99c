// The schema-field audit (issue 15 item 10): every field the Istio schemas in
// runtime/config/schema*.ts accept, found by walking the zod objects, must have one line below
// saying what dietmesh does with it — and the line must still be true as far as a test can see:
//   "<file>"                  honoured there (the file names the field; not a schema file)
//   "rejected"                refused at load by a rejected(...) marker, with the field's path
//   "rejected by rule: <file>" refused by a cross-field rule in <file> (e.g. TLS fields on HTTPS)
//   "only: <file>"            honoured in the values that mean what dietmesh does; <file> refuses the others
//   "as <field>"              a deprecated spelling the schema folds into <field>, which is honoured
//   "with <parent>"           a part of <parent>, honoured or refused with it as a whole
//   "pending: <why>"          owned by work in flight (L4: tcp/tls routes); allowed only there
// No field may be unsupported() (dropped with a warning). A schema object used in several places
// (stringMatch, a traffic policy inside subsets and portLevelSettings) is listed once, under the
// first path the walk meets it on. The test fails on a field missing here and on a line here whose
// field no longer exists.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { specSchemas, telemetrySpec } from "../../runtime/config/schemas.ts";
import { REJECTED_FIELDS, UNSUPPORTED_FIELDS } from "../../runtime/config/schema-common.ts";
import { platform } from "../../runtime/platform/index.ts";
import { loadRegexEngine } from "../../runtime/routing/regex.ts";

// the RE2 engine loads with a config that has a regex (config/load-engines.ts); here, once for all
await loadRegexEngine();

const root = new URL("../../", import.meta.url).pathname;

interface Field {
  path: string;
  schema: object;
}

/** every key of every zod object reachable from the spec schemas, each object walked once */
function fields(): Field[] {
  const seen = new Set<object>();
  const out: Field[] = [];
  // zod 4's own definitions: { type, shape | innerType | in/out | element | valueType | options }
  type Def = { type: string; shape?: Record<string, object>; innerType?: object; in?: object; out?: object; element?: object; valueType?: object; options?: object[] };
  const walk = (schema: object, path: string): void => {
    const def = (schema as { _zod: { def: Def } })._zod.def;
    switch (def.type) {
      case "object":
        if (seen.has(schema)) return;
        seen.add(schema);
        for (const [key, value] of Object.entries(def.shape!)) {
          out.push({ path: `${path}.${key}`, schema: value });
          walk(value, `${path}.${key}`);
        }
        return;
      case "optional": case "nullable": case "default": case "prefault": case "nonoptional": case "readonly": case "catch":
        return walk(def.innerType!, path);
      case "pipe":
        walk(def.in!, path);
        return walk(def.out!, path);
      case "array":
        return walk(def.element!, `${path}[]`);
      case "record":
        return walk(def.valueType!, `${path}{}`);
      case "union":
        for (const option of def.options!) walk(option, path);
        return;
    }
  };
  // Telemetry is kept as written, not built, but validated by its own schema: audited the same way
  for (const [kind, schema] of Object.entries({ ...specSchemas, Telemetry: telemetrySpec })) walk(schema, kind);
  return out;
}

const AUDIT: Record<string, string> = {
  "Gateway.servers": "runtime/model/compile.ts",
  "Gateway.servers[].port": "runtime/model/compile.ts",
  "Gateway.servers[].port.number": "runtime/model/compile.ts",
  "Gateway.servers[].port.protocol": "runtime/model/compile.ts",
  "Gateway.servers[].port.name": "runtime/model/compile.ts",
  "Gateway.servers[].port.targetPort": "rejected",
  "Gateway.servers[].bind": "rejected",
  "Gateway.servers[].hosts": "runtime/model/compile.ts",
  "Gateway.servers[].tls": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.httpsRedirect": "runtime/model/compile.ts",
  "Gateway.servers[].tls.mode": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.serverCertificate": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.privateKey": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.caCertificates": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.caCrl": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.credentialName": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.credentialNames": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.caCertCredentialName": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.tlsCertificates": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.tlsCertificates[].serverCertificate": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.tlsCertificates[].privateKey": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.tlsCertificates[].caCertificates": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].tls.subjectAltNames": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.verifyCertificateSpki": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.verifyCertificateHash": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.minProtocolVersion": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.maxProtocolVersion": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.cipherSuites": "runtime/cli/gateway-tls.ts",
  "Gateway.servers[].tls.insecureSkipVerify": "rejected by rule: runtime/config/schemas.ts",
  "Gateway.servers[].defaultEndpoint": "rejected",
  "Gateway.servers[].name": "runtime/model/compile.ts",
  "Gateway.selector": "runtime/model/compile.ts",
  "VirtualService.hosts": "runtime/model/compile-route.ts",
  "VirtualService.gateways": "runtime/model/compile.ts",
  "VirtualService.http": "runtime/model/compile-route.ts",
  "VirtualService.http[].name": "runtime/model/compile-route.ts",
  "VirtualService.http[].match": "runtime/routing/match.ts",
  "VirtualService.http[].match[].name": "runtime/routing/match.ts",
  "VirtualService.http[].match[].uri": "runtime/routing/match.ts",
  "VirtualService.http[].match[].uri.exact": "runtime/routing/string-match.ts",
  "VirtualService.http[].match[].uri.prefix": "runtime/routing/string-match.ts",
  "VirtualService.http[].match[].uri.regex": "runtime/routing/string-match.ts",
  "VirtualService.http[].match[].scheme": "runtime/routing/match.ts",
  "VirtualService.http[].match[].method": "runtime/routing/match.ts",
  "VirtualService.http[].match[].authority": "runtime/routing/match.ts",
  "VirtualService.http[].match[].headers": "runtime/routing/match.ts",
  "VirtualService.http[].match[].port": "runtime/routing/match.ts",
  "VirtualService.http[].match[].sourceLabels": "runtime/routing/match.ts",
  "VirtualService.http[].match[].gateways": "runtime/routing/match.ts",
  "VirtualService.http[].match[].queryParams": "runtime/routing/match.ts",
  "VirtualService.http[].match[].ignoreUriCase": "runtime/routing/match.ts",
  "VirtualService.http[].match[].withoutHeaders": "runtime/routing/match.ts",
  "VirtualService.http[].match[].sourceNamespace": "runtime/routing/match.ts",
  "VirtualService.http[].match[].statPrefix": "rejected",
  "VirtualService.http[].route": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].destination": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].destination.host": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].destination.subset": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].destination.port": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].destination.port.number": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].weight": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].headers": "runtime/model/compile-route.ts",
  "VirtualService.http[].route[].headers.request": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.request.set": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.request.add": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.request.remove": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.response": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.response.set": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.response.add": "runtime/routing/header-ops.ts",
  "VirtualService.http[].route[].headers.response.remove": "runtime/routing/header-ops.ts",
  "VirtualService.http[].redirect": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.uri": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.authority": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.port": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.derivePort": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.scheme": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.redirectCode": "runtime/routing/redirect.ts",
  "VirtualService.http[].redirect.prefixRewrite": "rejected",
  "VirtualService.http[].directResponse": "runtime/routing/direct-response.ts",
  "VirtualService.http[].directResponse.status": "runtime/routing/direct-response.ts",
  "VirtualService.http[].directResponse.body": "runtime/routing/direct-response.ts",
  "VirtualService.http[].directResponse.body.string": "runtime/routing/direct-response.ts",
  "VirtualService.http[].directResponse.body.bytes": "runtime/routing/direct-response.ts",
  "VirtualService.http[].delegate": "rejected",
  "VirtualService.http[].rewrite": "runtime/routing/rewrite.ts",
  "VirtualService.http[].rewrite.uri": "runtime/routing/rewrite.ts",
  "VirtualService.http[].rewrite.authority": "runtime/routing/rewrite.ts",
  "VirtualService.http[].rewrite.uriRegexRewrite": "runtime/routing/rewrite.ts",
  "VirtualService.http[].rewrite.uriRegexRewrite.match": "runtime/routing/rewrite.ts",
  "VirtualService.http[].rewrite.uriRegexRewrite.rewrite": "runtime/routing/rewrite.ts",
  "VirtualService.http[].timeout": "runtime/model/compile-route.ts",
  "VirtualService.http[].retries": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].retries.attempts": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].retries.perTryTimeout": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].retries.retryOn": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].retries.retryRemoteLocalities": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].retries.retryIgnorePreviousHosts": "only: runtime/config/schema-virtual-service.ts",
  "VirtualService.http[].retries.backoff": "runtime/resilience/retry-policy.ts",
  "VirtualService.http[].fault": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.delay": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.delay.fixedDelay": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.delay.exponentialDelay": "rejected",
  "VirtualService.http[].fault.delay.percentage": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.delay.percentage.value": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.delay.percent": "as VirtualService.http[].fault.delay.percentage",
  "VirtualService.http[].fault.abort": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.abort.httpStatus": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.abort.grpcStatus": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.abort.http2Error": "rejected",
  "VirtualService.http[].fault.abort.percentage": "runtime/resilience/fault.ts",
  "VirtualService.http[].fault.abort.percent": "as VirtualService.http[].fault.abort.percentage",
  "VirtualService.http[].mirror": "runtime/model/compile-route.ts",
  "VirtualService.http[].mirrors": "runtime/model/compile-route.ts",
  "VirtualService.http[].mirrors[].destination": "runtime/model/compile-route.ts",
  "VirtualService.http[].mirrors[].percentage": "runtime/model/compile-route.ts",
  "VirtualService.http[].mirrorPercentage": "runtime/model/compile-route.ts",
  "VirtualService.http[].mirrorPercent": "as VirtualService.http[].mirrorPercentage",
  "VirtualService.http[].corsPolicy": "runtime/filters/cors.ts",
  "VirtualService.http[].corsPolicy.allowOrigin": "as VirtualService.http[].corsPolicy.allowOrigins",
  "VirtualService.http[].corsPolicy.allowOrigins": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.allowMethods": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.allowHeaders": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.exposeHeaders": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.maxAge": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.allowCredentials": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].corsPolicy.unmatchedPreflights": "runtime/routing/cors-policy.ts",
  "VirtualService.http[].headers": "runtime/routing/header-ops.ts",
  "VirtualService.tls": "rejected by rule: runtime/config/l4-honesty.ts",
  "VirtualService.tls[].match": "with VirtualService.tls",
  "VirtualService.tls[].match[].destinationSubnets": "with VirtualService.tls",
  "VirtualService.tls[].match[].port": "with VirtualService.tls",
  "VirtualService.tls[].match[].sourceLabels": "with VirtualService.tls",
  "VirtualService.tls[].match[].gateways": "with VirtualService.tls",
  "VirtualService.tls[].match[].sourceNamespace": "with VirtualService.tls",
  "VirtualService.tls[].match[].sniHosts": "with VirtualService.tls",
  "VirtualService.tls[].route": "with VirtualService.tls",
  "VirtualService.tls[].route[].destination": "runtime/model/compile-tcp.ts",
  "VirtualService.tls[].route[].weight": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].destinationSubnets": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].port": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].sourceLabels": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].gateways": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].sourceNamespace": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].match[].sourceSubnet": "runtime/model/compile-tcp.ts",
  "VirtualService.tcp[].route": "runtime/model/compile-tcp.ts",
  "VirtualService.exportTo": "only: runtime/config/schema-common.ts",
  "DestinationRule.host": "runtime/model/destination-rules.ts",
  "DestinationRule.trafficPolicy": "runtime/model/destination-rules.ts",
  "DestinationRule.trafficPolicy.loadBalancer": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.simple": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpHeaderName": "runtime/resilience/balancers/hash-key.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpCookie": "runtime/resilience/balancers/hash-key.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpCookie.name": "runtime/resilience/balancers/hash-key.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpCookie.path": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.useSourceIp": "runtime/resilience/balancers/hash-key.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.httpQueryParameterName": "runtime/resilience/balancers/hash-key.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.ringHash": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.maglev": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.consistentHash.minimumRingSize": "runtime/resilience/balancers/index.ts",
  "DestinationRule.trafficPolicy.loadBalancer.localityLbSetting": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.zoneAwareLbSetting": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.warmupDurationSecs": "rejected",
  "DestinationRule.trafficPolicy.loadBalancer.warmup": "rejected",
  "DestinationRule.trafficPolicy.connectionPool": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.tcp": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.tcp.maxConnections": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.tcp.connectTimeout": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.tcp.tcpKeepalive": "rejected",
  "DestinationRule.trafficPolicy.connectionPool.tcp.maxConnectionDuration": "rejected",
  "DestinationRule.trafficPolicy.connectionPool.tcp.idleTimeout": "runtime/l4/tcp-proxy.ts",
  "DestinationRule.trafficPolicy.connectionPool.http": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.http1MaxPendingRequests": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.http2MaxRequests": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.maxRequestsPerConnection": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.maxRetries": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.idleTimeout": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.h2UpgradePolicy": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.useClientProtocol": "only: runtime/config/schema-destination-rule.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.maxConcurrentStreams": "runtime/resilience/circuit-breaker.ts",
  "DestinationRule.trafficPolicy.connectionPool.http.http2KeepAlive": "rejected",
  "DestinationRule.trafficPolicy.outlierDetection": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.consecutiveGatewayErrors": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.consecutive5xxErrors": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.consecutiveErrors": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.interval": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.baseEjectionTime": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.maxEjectionPercent": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.minHealthPercent": "runtime/resilience/outlier-settings.ts",
  "DestinationRule.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes": "rejected",
  "DestinationRule.trafficPolicy.tls": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.mode": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.clientCertificate": "runtime/security/credential-files.ts",
  "DestinationRule.trafficPolicy.tls.privateKey": "runtime/security/credential-files.ts",
  "DestinationRule.trafficPolicy.tls.caCertificates": "runtime/security/credential-files.ts",
  "DestinationRule.trafficPolicy.tls.credentialName": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.subjectAltNames": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.sni": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.insecureSkipVerify": "runtime/upstream/upstream-tls.ts",
  "DestinationRule.trafficPolicy.tls.caCrl": "rejected",
  "DestinationRule.trafficPolicy.portLevelSettings": "runtime/model/destination-rules.ts",
  "DestinationRule.trafficPolicy.portLevelSettings[].port": "runtime/model/destination-rules.ts",
  "DestinationRule.trafficPolicy.portLevelSettings[].loadBalancer": "with DestinationRule.trafficPolicy.portLevelSettings",
  "DestinationRule.trafficPolicy.portLevelSettings[].connectionPool": "with DestinationRule.trafficPolicy.portLevelSettings",
  "DestinationRule.trafficPolicy.portLevelSettings[].outlierDetection": "with DestinationRule.trafficPolicy.portLevelSettings",
  "DestinationRule.trafficPolicy.portLevelSettings[].tls": "with DestinationRule.trafficPolicy.portLevelSettings",
  "DestinationRule.trafficPolicy.tunnel": "rejected",
  "DestinationRule.trafficPolicy.proxyProtocol": "rejected",
  "DestinationRule.trafficPolicy.retryBudget": "rejected",
  "DestinationRule.subsets": "runtime/model/destination-rules.ts",
  "DestinationRule.subsets[].name": "runtime/model/destination-rules.ts",
  "DestinationRule.subsets[].labels": "runtime/model/clusters.ts",
  "DestinationRule.subsets[].trafficPolicy": "runtime/model/destination-rules.ts",
  "DestinationRule.exportTo": "only: runtime/config/schema-common.ts",
  "DestinationRule.workloadSelector": "runtime/model/destination-rules.ts",
  "DestinationRule.workloadSelector.matchLabels": "runtime/model/destination-rules.ts",
  "ServiceEntry.hosts": "adapters/static/from-config.ts",
  "ServiceEntry.addresses": "runtime/model/compile.ts",
  "ServiceEntry.ports": "adapters/static/from-config.ts",
  "ServiceEntry.ports[].number": "adapters/static/from-config.ts",
  "ServiceEntry.ports[].protocol": "adapters/static/from-config.ts",
  "ServiceEntry.ports[].name": "adapters/static/from-config.ts",
  "ServiceEntry.ports[].targetPort": "adapters/static/from-config.ts",
  "ServiceEntry.location": "runtime/model/compile.ts",
  "ServiceEntry.resolution": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints[].address": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints[].ports": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints[].labels": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints[].network": "rejected",
  "ServiceEntry.endpoints[].locality": "rejected",
  "ServiceEntry.endpoints[].weight": "adapters/static/from-config.ts",
  "ServiceEntry.endpoints[].serviceAccount": "adapters/static/from-config.ts",
  "ServiceEntry.workloadSelector": "adapters/static/from-config.ts",
  "ServiceEntry.workloadSelector.labels": "adapters/static/from-config.ts",
  "ServiceEntry.exportTo": "only: runtime/config/schema-common.ts",
  "ServiceEntry.subjectAltNames": "rejected",
  "Sidecar.workloadSelector": "runtime/model/sidecar-scope.ts",
  "Sidecar.workloadSelector.labels": "runtime/model/sidecar-scope.ts",
  "Sidecar.ingress": "rejected",
  "Sidecar.egress": "runtime/model/sidecar-scope.ts",
  "Sidecar.egress[].port": "rejected",
  "Sidecar.egress[].bind": "rejected",
  "Sidecar.egress[].captureMode": "rejected",
  "Sidecar.egress[].hosts": "runtime/model/sidecar-scope.ts",
  "Sidecar.inboundConnectionPool": "rejected",
  "Sidecar.outboundTrafficPolicy": "runtime/model/sidecar-scope.ts",
  "Sidecar.outboundTrafficPolicy.mode": "runtime/model/sidecar-scope.ts",
  "Sidecar.outboundTrafficPolicy.egressProxy": "rejected",
  "PeerAuthentication.selector": "runtime/security/policy/workload-scope.ts",
  "PeerAuthentication.selector.matchLabels": "runtime/security/policy/workload-scope.ts",
  "PeerAuthentication.mtls": "runtime/security/policy/peer-authentication.ts",
  "PeerAuthentication.mtls.mode": "runtime/security/policy/peer-authentication.ts",
  "PeerAuthentication.portLevelMtls": "runtime/security/policy/peer-authentication.ts",
  "AuthorizationPolicy.selector": "runtime/security/policy/workload-scope.ts",
  "AuthorizationPolicy.targetRef": "runtime/security/policy/workload-scope.ts",
  "AuthorizationPolicy.targetRef.group": "with AuthorizationPolicy.targetRef",
  "AuthorizationPolicy.targetRef.kind": "with AuthorizationPolicy.targetRef",
  "AuthorizationPolicy.targetRef.name": "with AuthorizationPolicy.targetRef",
  "AuthorizationPolicy.targetRef.namespace": "rejected by rule: runtime/config/schema-security.ts",
  "AuthorizationPolicy.targetRefs": "runtime/security/policy/workload-scope.ts",
  "AuthorizationPolicy.rules": "runtime/security/policy/authorization.ts",
  "AuthorizationPolicy.rules[].from": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.principals": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notPrincipals": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.requestPrincipals": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notRequestPrincipals": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.namespaces": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notNamespaces": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.serviceAccounts": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notServiceAccounts": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.ipBlocks": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notIpBlocks": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.remoteIpBlocks": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notRemoteIpBlocks": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.trustDomains": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].from[].source.notTrustDomains": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.hosts": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.notHosts": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.ports": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.notPorts": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.methods": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.notMethods": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.paths": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].to[].operation.notPaths": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].when": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].when[].key": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].when[].values": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.rules[].when[].notValues": "runtime/security/policy/authz-rules.ts",
  "AuthorizationPolicy.action": "runtime/security/policy/authorization.ts",
  "AuthorizationPolicy.provider": "rejected by rule: runtime/config/schema-security.ts",
  "AuthorizationPolicy.provider.name": "with AuthorizationPolicy.provider",
  "RequestAuthentication.selector": "runtime/security/policy/workload-scope.ts",
  "RequestAuthentication.targetRef": "runtime/security/policy/workload-scope.ts",
  "RequestAuthentication.targetRefs": "runtime/security/policy/workload-scope.ts",
  "RequestAuthentication.jwtRules": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].issuer": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].audiences": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].jwksUri": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].jwks": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].fromHeaders": "runtime/security/policy/jwt-locations.ts",
  "RequestAuthentication.jwtRules[].fromHeaders[].name": "runtime/security/policy/jwt-locations.ts",
  "RequestAuthentication.jwtRules[].fromHeaders[].prefix": "runtime/security/policy/jwt-locations.ts",
  "RequestAuthentication.jwtRules[].fromParams": "runtime/security/policy/jwt-locations.ts",
  "RequestAuthentication.jwtRules[].fromCookies": "runtime/security/policy/jwt-locations.ts",
  "RequestAuthentication.jwtRules[].outputPayloadToHeader": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].forwardOriginalToken": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].outputClaimToHeaders": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].outputClaimToHeaders[].header": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].outputClaimToHeaders[].claim": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].timeout": "runtime/security/policy/request-authentication.ts",
  "RequestAuthentication.jwtRules[].spaceDelimitedClaims": "runtime/security/policy/request-authentication.ts",
  "Telemetry.selector": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.selector.matchLabels": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.targetRef": "rejected",
  "Telemetry.targetRefs": "rejected",
  "Telemetry.tracing": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.tracing[].providers": "with Telemetry.tracing",
  "Telemetry.tracing[].providers[].name": "with Telemetry.tracing",
  "Telemetry.tracing[].randomSamplingPercentage": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.tracing[].disableSpanReporting": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.tracing[].match": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.tracing[].match.mode": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.tracing[].customTags": "rejected",
  "Telemetry.tracing[].useRequestIdForTraceSampling": "rejected",
  "Telemetry.tracing[].enableIstioTags": "rejected",
  "Telemetry.metrics": "only: runtime/config/schemas.ts",
  "Telemetry.metrics[].providers": "only: runtime/config/schemas.ts",
  "Telemetry.metrics[].providers[].name": "only: runtime/config/schemas.ts",
  "Telemetry.metrics[].overrides": "rejected",
  "Telemetry.metrics[].reportingInterval": "rejected",
  "Telemetry.accessLogging": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.accessLogging[].providers": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.accessLogging[].providers[].name": "only: runtime/config/schemas.ts",
  "Telemetry.accessLogging[].disabled": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.accessLogging[].match": "runtime/telemetry/telemetry-resource.ts",
  "Telemetry.accessLogging[].match.mode": "only: runtime/config/schemas.ts",
  "Telemetry.accessLogging[].filter": "rejected",
};

const keyOf = (path: string) => path.slice(path.lastIndexOf(".") + 1);
const texts = new Map<string, string>();
async function text(file: string): Promise<string> {
  if (!texts.has(file)) texts.set(file, await platform.readTextFile(`${root}${file}`));
  return texts.get(file)!;
}
/** the field's name as a word in the file */
const names = (source: string, key: string) => new RegExp(`\\b${key}\\b`).test(source);

test("the walk finds the schemas' fields (guards the walker itself)", () => {
  const paths = fields().map((f) => f.path);
  for (const known of ["VirtualService.http[].corsPolicy.allowOrigins", "DestinationRule.trafficPolicy.tls.mode", "AuthorizationPolicy.rules[].when[].key", "Gateway.servers[].port.number"]) {
    assert.ok(paths.includes(known), known);
  }
  assert.ok(paths.length > 250, `${paths.length} fields`);
});

test("no field is accepted and then dropped with a warning (unsupported())", () => {
  const dropped = fields().filter((f) => UNSUPPORTED_FIELDS.has(f.schema)).map((f) => f.path);
  assert.equal(dropped, []);
});

test("every field has a line, and every line a field", () => {
  const paths = new Set(fields().map((f) => f.path));
  assert.equal([...paths].filter((p) => !(p in AUDIT)), [], "fields the audit does not list");
  assert.equal(Object.keys(AUDIT).filter((p) => !paths.has(p)), [], "lines for fields the schemas no longer have");
});

test("each line holds: honoured files name the field, rejections are real, folds lead to honoured fields", async () => {
  const problems: string[] = [];
  for (const { path, schema } of fields()) {
    const line = AUDIT[path];
    if (line === undefined) continue;
    const key = keyOf(path);
    const marked = REJECTED_FIELDS.has(schema);
    if (line === "rejected") {
      if (!marked) problems.push(`${path}: listed as rejected, but its schema is not rejected(...)`);
      continue;
    }
    if (marked) {
      problems.push(`${path}: its schema is rejected(...), the line says ${JSON.stringify(line)}`);
      continue;
    }
    const as = /^as (\S+)$/.exec(line);
    if (as) {
      const target = AUDIT[as[1]];
      if (target === undefined || target.startsWith("rejected") || target.startsWith("as ")) problems.push(`${path}: folds into ${as[1]}, which is ${JSON.stringify(target)}`);
      continue;
    }
    const withParent = /^with (\S+)$/.exec(line);
    if (withParent) {
      // a part of a field honoured (or refused) as a whole: it shares its parent's line
      const parent = AUDIT[withParent[1]];
      if (!path.startsWith(`${withParent[1]}.`) && !path.startsWith(`${withParent[1]}[]`)) problems.push(`${path}: is not inside ${withParent[1]}`);
      else if (parent === undefined || /^(with|as|pending)\b/.test(parent)) problems.push(`${path}: its parent's line is ${JSON.stringify(parent)}`);
      continue;
    }
    if (line.startsWith("pending: ")) {
      if (!/^VirtualService\.(tcp|tls)\b/.test(path)) problems.push(`${path}: "pending" is only for the L4 work in flight`);
      continue;
    }
    const file = /^(?:rejected by rule: |only: )?(\S+)$/.exec(line)?.[1];
    if (!file) {
      problems.push(`${path}: cannot read ${JSON.stringify(line)}`);
      continue;
    }
    if (!line.includes(": ") && /^runtime\/config\/schema/.test(file)) problems.push(`${path}: honoured in a schema file? name the file that acts on it`);
    let source: string;
    try {
      source = await text(file);
    } catch {
      problems.push(`${path}: ${file} does not exist`);
      continue;
    }
    if (!names(source, key)) problems.push(`${path}: ${file} never names ${key}`);
  }
  assert.equal(problems, []);
});

test("a rejected field is refused at load with its path (one per kind, through the real loader's parser)", async () => {
  const { parseResource } = await import("../../runtime/config/schemas.ts");
  const cases: [Parameters<typeof parseResource>[0], Record<string, unknown>, string][] = [
    ["VirtualService", { hosts: ["a"], http: [{ route: [{ destination: { host: "a" } }], retries: { attempts: 1, retryIgnorePreviousHosts: false } }] }, "spec.http.0.retries.retryIgnorePreviousHosts"],
    ["VirtualService", { hosts: ["a"], http: [{ match: [{ statPrefix: "x" }], route: [{ destination: { host: "a" } }] }] }, "spec.http.0.match.0.statPrefix"],
    ["VirtualService", { hosts: ["a"], exportTo: ["."], http: [{ route: [{ destination: { host: "a" } }] }] }, "spec.exportTo"],
    ["DestinationRule", { host: "a", trafficPolicy: { connectionPool: { tcp: { tcpKeepalive: { time: "7200s" } } } } }, "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive"],
    ["DestinationRule", { host: "a", trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true } } } }, "spec.trafficPolicy.loadBalancer.localityLbSetting"],
    ["ServiceEntry", { hosts: ["a.example"], resolution: "STATIC", endpoints: [{ address: "10.0.0.1", locality: "r/z" }] }, "spec.endpoints.0.locality"],
    ["Gateway", { servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"], bind: "10.0.0.1" }] }, "spec.servers.0.bind"],
  ];
  for (const [kind, spec, path] of cases) {
    const result = parseResource(kind, { apiVersion: kind === "Gateway" || kind === "VirtualService" || kind === "DestinationRule" || kind === "ServiceEntry" ? "networking.istio.io/v1" : "security.istio.io/v1", kind, metadata: { name: "x" }, spec }, {});
    assert.not.ok(result.success, path);
    if (!result.success) assert.equal(result.issues.map((i) => i.path.join(".")), [path]);
  }
  // and the values that mean what dietmesh does still load
  const ok = parseResource("VirtualService", { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "x" }, spec: { hosts: ["a"], exportTo: ["*"], http: [{ route: [{ destination: { host: "a" } }], retries: { attempts: 1, retryIgnorePreviousHosts: true, backoff: "50ms" } }] } }, {});
  assert.ok(ok.success);
});

test.run();
