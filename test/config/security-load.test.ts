// Loading the security.istio.io kinds: where they land, strict fields with paths and lines, and
// everything istiod (or dietmesh, for CUSTOM and unsupported attributes) refuses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

const load = (text: string) => loadConfig(["p.yaml"], { defaultNamespace: "default", ...memoryIO({ "p.yaml": text }) });

/** a resource of `kind` with `spec` given as indented YAML lines (two spaces under spec:) */
const res = (kind: string, spec: string, { name = "p", version = "v1", namespace = "" } = {}) =>
  `apiVersion: security.istio.io/${version}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}spec:\n${spec}`;
const ap = (spec: string, opts = {}) => res("AuthorizationPolicy", spec, opts);

/** the errors of loading text, as "path: message" */
async function problems(text: string): Promise<string[]> {
  const { errors, config } = await load(text);
  assert.is(config, errors.length ? undefined : config);
  return errors.map((e) => `${e.path ?? ""}: ${e.message}`);
}

async function refused(text: string, path: string, message: RegExp) {
  const got = await problems(text);
  assert.ok(got.some((p) => p.startsWith(`${path}: `) && message.test(p)), `expected ${path} ~ ${message}, got ${JSON.stringify(got)}`);
}

test("the three kinds load into their own lists, v1 and v1beta1, with their namespace filled", async () => {
  const text = [
    res("PeerAuthentication", "  mtls:\n    mode: STRICT\n", { namespace: "istio-system" }),
    ap("  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin*]\n", { version: "v1beta1" }),
    res("RequestAuthentication", "  jwtRules:\n  - issuer: https://issuer.example\n    jwksUri: https://issuer.example/jwks\n    timeout: 2s\n"),
  ].join("---\n");
  const { config, errors, notices } = await load(text);
  assert.equal(errors, []);
  assert.equal(notices, []);
  assert.equal(config!.peerAuthentications.map((p) => [p.kind, p.metadata.namespace, p.spec]), [["PeerAuthentication", "istio-system", { mtls: { mode: "STRICT" } }]]);
  assert.equal(config!.authorizationPolicies[0].apiVersion, "security.istio.io/v1beta1");
  assert.equal(config!.authorizationPolicies[0].spec, { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] });
  assert.is(config!.requestAuthentications[0].metadata.namespace, "default");
  assert.is(config!.requestAuthentications[0].spec.jwtRules![0].timeout, 2000, "durations become milliseconds");
  assert.equal(config!.other, []);
  assert.ok(Object.isFrozen(config!.authorizationPolicies[0].spec.rules![0]));
});

test("every field of a full AuthorizationPolicy is accepted as written", async () => {
  const spec = `  selector:
    matchLabels: {app: web}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: [cluster.local/ns/a/sa/b]
        notPrincipals: ["*/sa/evil"]
        requestPrincipals: [iss/sub]
        notRequestPrincipals: ["iss/bad*"]
        namespaces: [a]
        notNamespaces: [b]
        ipBlocks: [10.0.0.0/8, 2001:db8::/32]
        notIpBlocks: [10.1.2.3]
        remoteIpBlocks: [192.168.0.0/16]
        notRemoteIpBlocks: ["::1"]
        trustDomains: ["*.local"]
        notTrustDomains: [evil.example]
    - source:
        serviceAccounts: [web, other/api]
        notServiceAccounts: [x/y]
    to:
    - operation:
        hosts: [example.com]
        notHosts: ["*.internal"]
        ports: ["8080"]
        notPorts: ["9090"]
        methods: [GET]
        notMethods: [DELETE]
        paths: ["/api/{*}/items/{**}"]
        notPaths: ["*.secret"]
    when:
    - key: request.headers[X-Tenant]
      values: [t1]
    - key: request.auth.claims[groups][admins]
      notValues: ["no"]
    - key: source.ip
      values: [10.0.0.0/8]
    - key: destination.port
      values: ["8080"]
    - key: connection.sni
      values: [example.com]
`;
  const { config, errors } = await load(ap(spec));
  assert.equal(errors.map(formatConfigError), []);
  const rule = config!.authorizationPolicies[0].spec.rules![0];
  assert.is(rule.from!.length, 2);
  assert.equal(rule.to![0].operation.paths, ["/api/{*}/items/{**}"]);
  assert.equal(rule.when!.map((w) => w.key), ["request.headers[X-Tenant]", "request.auth.claims[groups][admins]", "source.ip", "destination.port", "connection.sni"]);
});

test("an unknown field is an error naming file, document, line, resource and path, with a suggestion", async () => {
  const text = `${ap("  rules:\n  - to:\n    - operation:\n        paths: [/x]\n")}---\n${ap("  rules:\n  - from:\n    - source:\n        principal: [a]\n", { name: "q" })}`;
  const { errors } = await load(text);
  assert.is(errors.length, 1);
  assert.is(
    formatConfigError(errors[0]),
    'Error [schema] AuthorizationPolicy default/q (p.yaml, document 2, line 19) spec.rules[0].from[0].source.principal: unknown field "principal" (did you mean "principals"?)',
  );
  await refused(res("PeerAuthentication", "  mtls:\n    mod: STRICT\n"), "spec.mtls.mod", /did you mean "mode"/);
  await refused(res("RequestAuthentication", "  jwtRules:\n  - issuer: i\n    jwksUri: https://i/k\n    fromHeader: [{name: x}]\n"), "spec.jwtRules[0].fromHeader", /did you mean "fromHeaders"/);
});

test("security.istio.io/v1alpha1 is refused rather than silently not enforced", async () => {
  await refused(ap("  {}\n", { version: "v1alpha1" }), "apiVersion", /security.istio.io\/v1beta1/);
});

test("action CUSTOM is refused with the reason; provider only belongs to CUSTOM", async () => {
  await refused(ap("  action: CUSTOM\n  provider:\n    name: ext\n  rules:\n  - {}\n"), "spec.action", /CUSTOM is not supported: dietmesh has no external authorization/);
  await refused(ap("  action: ALLOW\n  provider:\n    name: ext\n  rules:\n  - {}\n"), "spec.provider", /must not be with non CUSTOM action, found ALLOW/);
  await refused(ap("  action: AUDITING\n"), "spec.action", /expected one of "ALLOW", "DENY", "AUDIT", "CUSTOM"/);
});

test("DENY needs rules (istiod refuses it); ALLOW and AUDIT without rules load and match nothing", async () => {
  await refused(ap("  action: DENY\n"), "spec.rules", /DENY action without `rules` is meaningless/);
  await refused(ap("  action: DENY\n  rules: []\n"), "spec.rules", /DENY action without `rules`/);
  assert.equal(await problems(ap("  action: ALLOW\n")), []);
  assert.equal(await problems(ap("  {}\n")), []);
  assert.equal(await problems(ap("  action: AUDIT\n")), []);
  assert.equal(await problems(ap("  action: DENY\n  rules:\n  - {}\n")), [], "an empty rule is how to deny everything");
});

test("empty from, to, source and operation are refused (an empty source would match every caller)", async () => {
  const rules = (r: string) => ap(`  action: DENY\n  rules:\n${r}`);
  await refused(rules("  - from: [{}]\n"), "spec.rules[0].from[0]", /`from.source` must not be empty/);
  await refused(rules("  - from:\n    - source: {}\n"), "spec.rules[0].from[0].source", /`from.source` must not be empty/);
  await refused(rules("  - from:\n    - source:\n        principals: []\n"), "spec.rules[0].from[0].source", /must not be empty/);
  await refused(rules("  - from: []\n"), "spec.rules[0].from", /`from` must not be empty/);
  await refused(rules("  - to: [{}]\n"), "spec.rules[0].to[0]", /`to.operation` must not be empty/);
  await refused(rules("  - to:\n    - operation: {}\n"), "spec.rules[0].to[0].operation", /`to.operation` must not be empty/);
  await refused(rules("  - to: []\n"), "spec.rules[0].to", /`to` must not be empty/);
});

test("values are checked: empty strings, IPs and CIDRs, ports, path templates, service accounts, trust domains", async () => {
  const src = (s: string) => ap(`  rules:\n  - from:\n    - source:\n        ${s}\n`);
  const op = (s: string) => ap(`  rules:\n  - to:\n    - operation:\n        ${s}\n`);
  await refused(src('principals: [""]'), "spec.rules[0].from[0].source.principals[0]", /empty value not allowed/);
  await refused(src("ipBlocks: [10.0.0.0/33]"), "spec.rules[0].from[0].source.ipBlocks[0]", /expected an IP address or CIDR block/);
  await refused(src("notRemoteIpBlocks: [not-an-ip]"), "spec.rules[0].from[0].source.notRemoteIpBlocks[0]", /CIDR/);
  await refused(src("ipBlocks: [010.0.0.1]"), "spec.rules[0].from[0].source.ipBlocks[0]", /CIDR/);
  await refused(src("serviceAccounts: [a]\n        principals: [b]"), "spec.rules[0].from[0].source.serviceAccounts", /cannot set serviceAccounts with namespaces or principals/);
  await refused(src('serviceAccounts: ["ns/*"]'), "spec.rules[0].from[0].source.serviceAccounts[0]", /wildcards are not allowed/);
  await refused(src("serviceAccounts: [a/b/c]"), "spec.rules[0].from[0].source.serviceAccounts[0]", /namespace\/serviceAccount/);
  await refused(src('trustDomains: ["a*b"]'), "spec.rules[0].from[0].source.trustDomains[0]", /only allowed at the start or end/);
  await refused(src("trustDomains: [a/b]"), "spec.rules[0].from[0].source.trustDomains[0]", /must not contain "\/"/);
  await refused(op("ports: [http]"), "spec.rules[0].to[0].operation.ports[0]", /port number/);
  await refused(op('ports: ["70000"]'), "spec.rules[0].to[0].operation.ports[0]", /port number/);
  await refused(op("ports: [8080]"), "spec.rules[0].to[0].operation.ports[0]", /expected a string, got 8080/);
  await refused(op('paths: ["/{**}/foo/{*}"]'), "spec.rules[0].to[0].operation.paths[0]", /\{\*\*\} must be the last operator/);
  await refused(op('paths: ["/foo/{*}.txt"]'), "spec.rules[0].to[0].operation.paths[0]", /only allowed as a whole/);
  await refused(op('notPaths: ["/*/baz/{*}"]'), "spec.rules[0].to[0].operation.notPaths[0]", /including "\*" outside/);
  assert.equal(await problems(op('paths: ["/foo/{*}/bar/{**}", "/a*", "*.png", "*"]')), []);
});

test("when: keys Istio knows and dietmesh evaluates, with values that fit the key", async () => {
  const when = (w: string) => ap(`  rules:\n  - when:\n    - ${w}\n`);
  await refused(when("key: request.headers\n      values: [x]"), "spec.rules[0].when[0].key", /request.headers\[<name>\]/);
  await refused(when("key: request.auth.claims[]\n      values: [x]"), "spec.rules[0].when[0].key", /request.auth.claims\[<name>\]/);
  await refused(when("key: destination.labels[app]\n      values: [x]"), "spec.rules[0].when[0].key", /replaced by the workload selector/);
  await refused(when("key: destination.namespace\n      values: [x]"), "spec.rules[0].when[0].key", /replaced by the metadata.namespace/);
  await refused(when("key: experimental.envoy.filters.a.b[c]\n      values: [x]"), "spec.rules[0].when[0].key", /dietmesh does not have/);
  await refused(when("key: request.method\n      values: [GET]"), "spec.rules[0].when[0].key", /unknown attribute: request.method/);
  await refused(when("key: source.ip"), "spec.rules[0].when[0].values", /at least one of `values` or `notValues`/);
  await refused(when("key: source.ip\n      values: [bad]"), "spec.rules[0].when[0].values[0]", /CIDR/);
  await refused(when("key: destination.port\n      notValues: [x]"), "spec.rules[0].when[0].notValues[0]", /port number/);
  await refused(when('key: request.auth.principal\n      values: [""]'), "spec.rules[0].when[0].values[0]", /empty value/);
  await refused(when("key: source.serviceAccount\n      values: [a/*]"), "spec.rules[0].when[0].values[0]", /wildcards/);
});

test("selector rules, and targetRef policies load with a warning that they reach no workload", async () => {
  await refused(ap('  selector:\n    matchLabels:\n      app: "*"\n'), "spec.selector.matchLabels.app", /wildcard is not supported/);
  await refused(ap("  selector:\n    matchLabels: {app: a}\n  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: g\n"), "spec.targetRefs", /only one of targetRefs or selector/);
  await refused(ap("  targetRef:\n    kind: Gateway\n    group: gateway.networking.k8s.io\n    name: g\n    namespace: other\n"), "spec.targetRef.namespace", /cross namespace referencing/);
  await refused(ap("  targetRefs:\n  - kind: Deployment\n    name: d\n"), "spec.targetRefs[0].kind", /targetRef must be to one of/);
  const { errors, notices, config } = await load(ap("  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: g\n  rules:\n  - {}\n"));
  assert.equal(errors, []);
  assert.is(config!.authorizationPolicies.length, 1);
  assert.equal(notices.map((n) => [n.code, n.severity, n.path, n.line]), [["unsupported-field", "warning", "spec.targetRefs", 6]]);
  assert.match(notices[0].message, /applies to no workload/);
});

test("PeerAuthentication: modes, port-level mTLS only with a selector, ports in range", async () => {
  await refused(res("PeerAuthentication", "  mtls:\n    mode: strict\n"), "spec.mtls.mode", /expected one of "UNSET", "DISABLE", "PERMISSIVE", "STRICT"/);
  await refused(res("PeerAuthentication", "  portLevelMtls:\n    8080:\n      mode: DISABLE\n"), "spec.portLevelMtls", /portLevelMtls requires selector/);
  await refused(res("PeerAuthentication", "  selector:\n    matchLabels: {app: a}\n  portLevelMtls:\n    0:\n      mode: DISABLE\n"), "spec.portLevelMtls.0", /port must be between 1-65535/);
  await refused(res("PeerAuthentication", "  selector:\n    matchLabels: {app: a}\n  portLevelMtls: {}\n"), "spec.portLevelMtls", /at least one element/);
  const { config, errors } = await load(res("PeerAuthentication", "  selector:\n    matchLabels: {app: a}\n  mtls: {}\n  portLevelMtls:\n    8080:\n      mode: UNSET\n"));
  assert.equal(errors, []);
  assert.equal(config!.peerAuthentications[0].spec.portLevelMtls, { "8080": { mode: "UNSET" } });
});

test("RequestAuthentication: issuer or jwksUri, one key source, http(s) URIs, asymmetric inline keys", async () => {
  const ra = (rule: string) => res("RequestAuthentication", `  jwtRules:\n  - ${rule}\n`);
  await refused(ra("audiences: [a]\n    jwks: '{\"keys\":[]}'"), "spec.jwtRules[0].issuer", /issuer or jwksUri must be non-empty/);
  await refused(ra("issuer: i"), "spec.jwtRules[0].jwksUri", /OpenID discovery from the issuer is not supported/);
  await refused(ra("issuer: i\n    jwksUri: https://i/k\n    jwks: '{\"keys\":[]}'"), "spec.jwtRules[0].jwks", /only one of jwks or jwksUri/);
  await refused(ra("issuer: i\n    jwksUri: file:///etc/keys"), "spec.jwtRules[0].jwksUri", /scheme http:\/\/ or https:\/\//);
  await refused(ra("issuer: i\n    jwks: 'not json'"), "spec.jwtRules[0].jwks", /jwks parse error/);
  await refused(ra("issuer: i\n    jwks: '{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}'"), "spec.jwtRules[0].jwks", /symmetric \("oct"\) keys are not supported/);
  await refused(ra("issuer: i\n    jwksUri: https://i/k\n    outputClaimToHeaders:\n    - header: 'bad header'\n      claim: sub"), "spec.jwtRules[0].outputClaimToHeaders[0].header", /HTTP header name/);
  await refused(ra("issuer: i\n    jwksUri: https://i/k\n    fromHeaders:\n    - prefix: 'Bearer '"), "spec.jwtRules[0].fromHeaders[0].name", /required field is missing/);
  await refused(ra("issuer: i\n    jwksUri: https://i/k\n    timeout: soon"), "spec.jwtRules[0].timeout", /expected a duration/);
  const priv = JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "secret" }] });
  const { errors, notices } = await load(ra(`issuer: i\n    jwks: '${priv}'`));
  assert.equal(errors, []);
  assert.equal(notices.map((n) => [n.severity, n.path]), [["warning", "spec.jwtRules[0].jwks"]]);
  assert.match(notices[0].message, /private key material/);
});

test("the same name is a duplicate within a kind, not across kinds", async () => {
  const pa = res("PeerAuthentication", "  mtls:\n    mode: STRICT\n");
  const { errors } = await load(`${pa}---\n${ap("  {}\n")}---\n${pa}`);
  assert.equal(errors.map((e) => [e.code, e.kind, e.document]), [["duplicate", "PeerAuthentication", 2]]);
});

test.run();
