// AuthorizationPolicy evaluation: which policies apply, the DENY/ALLOW/AUDIT order, and every
// field of from.source, to.operation and when, each with a request that matches and one that
// does not.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { JWTPayload } from "jose";
import { compileAuthorization, type AuthzDecision } from "../../../runtime/security/policy/authorization.ts";
import type { AuthzAttributes } from "../../../runtime/security/policy/attributes.ts";
import { authz, loadPolicies } from "./load-policies.ts";

const workload = { namespace: "shop", labels: { app: "web" } };
const SLEEP = "cluster.local/ns/shop/sa/sleep";

function req(over: Partial<AuthzAttributes> & { headerList?: [string, string][] } = {}): AuthzAttributes {
  const { headerList, ...rest } = over;
  return {
    host: "web.shop.svc.cluster.local",
    method: "GET",
    path: "/",
    port: 8080,
    headers: new Headers(headerList ?? []),
    sourceIp: "10.0.0.9",
    remoteIp: "10.0.0.9",
    ...rest,
  };
}

/** compiles the policies (YAML documents) for the `web` workload in `shop` */
async function authorizer(...docs: string[]) {
  const config = await loadPolicies(...docs);
  return compileAuthorization(config.authorizationPolicies, workload);
}

/** an ALLOW policy with one rule given as YAML at rule level ("    " indent), and the decision helper */
async function allowIf(rule: string) {
  const a = await authorizer(authz("allow", `  rules:\n  - ${rule.trimStart()}\n`, { namespace: "shop" }));
  return (over: Parameters<typeof req>[0] = {}) => a(req(over)).allowed;
}

test("no policy: allowed; the decision says why", async () => {
  const a = await authorizer();
  assert.equal(a(req()), { allowed: true, reason: "no-allow-policy", audit: false });
});

test("ALLOW without rules allows nothing; `rules: [{}]` allows everything", async () => {
  const nothing = await authorizer(authz("allow-nothing", "  {}\n", { namespace: "shop" }));
  assert.equal(nothing(req()), { allowed: false, reason: "not-allowed", audit: false });
  const all = await authorizer(authz("allow-all", "  rules:\n  - {}\n", { namespace: "shop" }));
  assert.equal(all(req()), { allowed: true, reason: "allowed", policy: "shop/allow-all", audit: false });
});

test("DENY is evaluated before ALLOW; one ALLOW match is enough; no match with ALLOW policies denies", async () => {
  const a = await authorizer(
    authz("deny-admin", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin*]\n", { namespace: "shop" }),
    authz("allow-all", "  action: ALLOW\n  rules:\n  - {}\n", { namespace: "shop" }),
    authz("allow-get", "  rules:\n  - to:\n    - operation:\n        methods: [GET]\n", { namespace: "shop" }),
  );
  assert.equal(a(req({ path: "/admin/users" })), { allowed: false, reason: "denied", policy: "shop/deny-admin", audit: false });
  assert.equal(a(req({ path: "/x" })).allowed, true);
  const strict = await authorizer(authz("allow-get", "  rules:\n  - to:\n    - operation:\n        methods: [GET]\n", { namespace: "shop" }));
  assert.equal(strict(req({ method: "POST" })), { allowed: false, reason: "not-allowed", audit: false });
  assert.equal(strict(req({ method: "GET" })).policy, "shop/allow-get");
});

test("scope: root namespace is mesh-wide, other namespaces never, selectors by label, targetRefs never", async () => {
  const denyAll = (name: string, ns: string, extra = "") => authz(name, `${extra}  action: DENY\n  rules:\n  - {}\n`, { namespace: ns });
  assert.is((await authorizer(denyAll("mesh", "istio-system")))(req()).allowed, false);
  assert.is((await authorizer(denyAll("other", "billing")))(req()).allowed, true);
  assert.is((await authorizer(denyAll("sel", "shop", "  selector:\n    matchLabels: {app: web}\n")))(req()).allowed, false);
  assert.is((await authorizer(denyAll("sel", "shop", "  selector:\n    matchLabels: {app: api}\n")))(req()).allowed, true);
  assert.is((await authorizer(denyAll("sel", "istio-system", "  selector:\n    matchLabels: {app: web}\n")))(req()).allowed, false, "root-namespace selectors match in every namespace");
  const gw = "  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: g\n";
  const a = await authorizer(denyAll("gw", "shop", gw));
  assert.equal([a(req()).allowed, a.policies.deny], [true, []]);
  const config = await loadPolicies(denyAll("mesh", "mesh-root"));
  assert.is(compileAuthorization(config.authorizationPolicies, workload, "mesh-root")(req()).allowed, false);
  assert.is(compileAuthorization(config.authorizationPolicies, workload)(req()).allowed, true);
});

test("AUDIT only flags; it never allows or denies", async () => {
  const audit = authz("audit-admin", "  action: AUDIT\n  rules:\n  - to:\n    - operation:\n        paths: [/admin]\n", { namespace: "shop" });
  const a = await authorizer(audit);
  assert.equal(a(req({ path: "/admin" })), { allowed: true, reason: "no-allow-policy", audit: true, auditPolicy: "shop/audit-admin" });
  assert.equal(a(req({ path: "/x" })).audit, false);
  const withDeny = await authorizer(audit, authz("deny", "  action: DENY\n  rules:\n  - {}\n", { namespace: "shop" }));
  assert.equal([withDeny(req({ path: "/admin" })).allowed, withDeny(req({ path: "/admin" })).audit], [false, true]);
});

test("istio.io/dry-run policies are evaluated and reported, never enforced", async () => {
  const a = await authorizer(authz("deny-dry", "  action: DENY\n  rules:\n  - {}\n", { namespace: "shop", annotations: '    istio.io/dry-run: "true"\n' }));
  const d = a(req());
  assert.equal(d, { allowed: true, reason: "no-allow-policy", audit: false, dryRun: { allowed: false, reason: "denied", policy: "shop/deny-dry" } });
  assert.equal(a.policies, { deny: [], allow: [], audit: [], dryRun: ["shop/deny-dry"] });
});

test("a rule matches when some source, some operation and every condition match", async () => {
  const allowed = await allowIf(`from:
    - source:
        principals: [${SLEEP}]
    - source:
        namespaces: [ops]
    to:
    - operation:
        methods: [GET]
        paths: [/info*]
    - operation:
        methods: [POST]
        paths: [/data]
    when:
    - key: request.headers[x-env]
      values: [prod]
    - key: destination.port
      values: ["8080"]`);
  const env: [string, string][] = [["x-env", "prod"]];
  assert.ok(allowed({ principal: SLEEP, path: "/info/1", headerList: env }));
  assert.ok(allowed({ principal: "cluster.local/ns/ops/sa/x", method: "POST", path: "/data", headerList: env }));
  assert.not.ok(allowed({ principal: SLEEP, method: "POST", path: "/info", headerList: env }), "fields of one operation are AND'd");
  assert.not.ok(allowed({ principal: "cluster.local/ns/dev/sa/x", path: "/info", headerList: env }), "no source matches");
  assert.not.ok(allowed({ principal: SLEEP, path: "/info" }), "a condition fails");
  assert.not.ok(allowed({ principal: SLEEP, path: "/info", headerList: env, port: 9090 }), "the other condition fails");
});

test("principals / notPrincipals: exact, prefix, suffix, * (any authenticated peer); plaintext has none", async () => {
  const exact = await allowIf(`from:\n    - source:\n        principals: [${SLEEP}]`);
  assert.ok(exact({ principal: SLEEP }));
  assert.not.ok(exact({ principal: `${SLEEP}x` }));
  assert.not.ok(exact({}));
  const prefix = await allowIf("from:\n    - source:\n        principals: [cluster.local/ns/shop/*]");
  assert.ok(prefix({ principal: SLEEP }));
  assert.not.ok(prefix({ principal: "cluster.local/ns/shopx/sa/a" }));
  const suffix = await allowIf('from:\n    - source:\n        principals: ["*/sa/sleep"]');
  assert.ok(suffix({ principal: "td/ns/any/sa/sleep" }));
  assert.not.ok(suffix({ principal: "td/ns/any/sa/sleepy" }));
  const any = await allowIf('from:\n    - source:\n        principals: ["*"]');
  assert.ok(any({ principal: SLEEP }));
  assert.not.ok(any({}), "* needs an mTLS identity");
  const not = await allowIf("from:\n    - source:\n        notPrincipals: [cluster.local/ns/shop/sa/evil]");
  assert.ok(not({ principal: SLEEP }));
  assert.not.ok(not({ principal: "cluster.local/ns/shop/sa/evil" }));
  assert.ok(not({}), "plaintext has no principal, so it is not the excluded one (as in Envoy)");
});

test("namespaces / notNamespaces come from the peer's principal", async () => {
  const ns = await allowIf("from:\n    - source:\n        namespaces: [shop, ops*]");
  assert.ok(ns({ principal: SLEEP }));
  assert.ok(ns({ principal: "cluster.local/ns/ops-eu/sa/x" }));
  assert.not.ok(ns({ principal: "cluster.local/ns/dev/sa/x" }));
  assert.not.ok(ns({}), "no mTLS, no namespace");
  assert.not.ok(ns({ principal: "cluster.local/workload/shop" }), "a principal without /ns/<ns>/sa/<sa> names no namespace");
  const not = await allowIf("from:\n    - source:\n        notNamespaces: [dev]");
  assert.ok(not({ principal: SLEEP }));
  assert.not.ok(not({ principal: "cluster.local/ns/dev/sa/x" }));
});

test("serviceAccounts: a bare name is in the policy's namespace; ns/sa anywhere; notServiceAccounts", async () => {
  const sa = await allowIf("from:\n    - source:\n        serviceAccounts: [sleep, ops/deployer]");
  assert.ok(sa({ principal: SLEEP }));
  assert.ok(sa({ principal: "other.td/ns/ops/sa/deployer" }));
  assert.not.ok(sa({ principal: "cluster.local/ns/dev/sa/sleep" }));
  assert.not.ok(sa({ principal: "cluster.local/ns/shop/sa/sleepy" }));
  const not = await allowIf("from:\n    - source:\n        notServiceAccounts: [sleep]");
  assert.not.ok(not({ principal: SLEEP }));
  assert.ok(not({ principal: "cluster.local/ns/dev/sa/sleep" }));
});

test("trustDomains / notTrustDomains", async () => {
  const td = await allowIf('from:\n    - source:\n        trustDomains: ["*.local"]');
  assert.ok(td({ principal: SLEEP }));
  assert.not.ok(td({ principal: "example.org/ns/shop/sa/sleep" }));
  assert.not.ok(td({}));
  const not = await allowIf("from:\n    - source:\n        notTrustDomains: [example.org]");
  assert.ok(not({ principal: SLEEP }));
  assert.not.ok(not({ principal: "example.org/ns/shop/sa/sleep" }));
});

test("requestPrincipals: split at the last / into issuer and subject, as Istio does; * needs both", async () => {
  const claims = (iss: string, sub?: string): Partial<AuthzAttributes> => ({ requestPrincipal: `${iss}/${sub}`, claims: { iss, ...(sub ? { sub } : {}) } });
  const exact = await allowIf("from:\n    - source:\n        requestPrincipals: [https://idp.example/tenant/alice]");
  assert.ok(exact(claims("https://idp.example/tenant", "alice")));
  assert.not.ok(exact(claims("https://idp.example", "tenant/alice")), "the same string, split differently, is someone else");
  const subjects = await allowIf('from:\n    - source:\n        requestPrincipals: ["https://idp.example/*"]');
  assert.ok(subjects(claims("https://idp.example", "bob")));
  assert.not.ok(subjects(claims("https://idp.example/evil", "bob")), "the issuer is exact; only the subject is a wildcard");
  const issuers = await allowIf('from:\n    - source:\n        requestPrincipals: ["*/alice"]');
  assert.ok(issuers(claims("https://any.example", "alice")));
  assert.not.ok(issuers(claims("https://any.example", "malice")));
  const any = await allowIf('from:\n    - source:\n        requestPrincipals: ["*"]');
  assert.ok(any(claims("https://idp.example", "alice")));
  assert.not.ok(any(claims("https://idp.example")), "a token without sub");
  assert.not.ok(any({}), "no token");
  assert.ok(any({ requestPrincipal: "https://idp.example/alice" }), "requestPrincipal alone is enough when claims are not given");
  const not = await allowIf('from:\n    - source:\n        notRequestPrincipals: ["https://bad.example/*"]');
  assert.ok(not({}));
  assert.ok(not(claims("https://idp.example", "a")));
  assert.not.ok(not(claims("https://bad.example", "a")));
});

test("ipBlocks / notIpBlocks use the peer address; remoteIpBlocks / notRemoteIpBlocks the original client", async () => {
  const ip = await allowIf('from:\n    - source:\n        ipBlocks: [10.0.0.0/8, "2001:db8::/32"]\n        notIpBlocks: [10.6.6.6]');
  assert.ok(ip({ sourceIp: "10.1.2.3" }));
  assert.ok(ip({ sourceIp: "::ffff:10.1.2.3" }));
  assert.ok(ip({ sourceIp: "2001:db8::7" }));
  assert.not.ok(ip({ sourceIp: "10.6.6.6" }));
  assert.not.ok(ip({ sourceIp: "192.168.0.1", remoteIp: "10.1.2.3" }));
  assert.not.ok(ip({ sourceIp: "garbage" }));
  const remote = await allowIf('from:\n    - source:\n        remoteIpBlocks: [203.0.113.0/24]\n        notRemoteIpBlocks: [203.0.113.66]');
  assert.ok(remote({ remoteIp: "203.0.113.5", sourceIp: "10.0.0.1" }));
  assert.not.ok(remote({ remoteIp: "203.0.113.66" }));
  assert.not.ok(remote({ remoteIp: "10.0.0.1", sourceIp: "203.0.113.5" }));
});

test("hosts / notHosts: case-insensitive, trailing dots and ports cannot dodge a pattern", async () => {
  const hosts = await allowIf('to:\n    - operation:\n        hosts: [Example.COM, "*.api.example.com", "admin.example.com:8443"]');
  for (const host of ["example.com", "EXAMPLE.com", "example.com.", "example.com:8080", "example.com.:8080", "v1.api.example.com", "V1.API.example.com.", "admin.example.com:8443"]) {
    assert.ok(hosts({ host }), host);
  }
  for (const host of ["example.org", "example.com.evil", "api.example.com", "admin.example.com", "admin.example.com:443", ""]) {
    assert.not.ok(hosts({ host }), host);
  }
  const v6 = await allowIf('to:\n    - operation:\n        hosts: ["[::1]"]');
  assert.ok(v6({ host: "[::1]:8080" }));
  const not = await allowIf("to:\n    - operation:\n        notHosts: [internal.example.com]");
  assert.ok(not({ host: "example.com" }));
  for (const host of ["internal.example.com", "INTERNAL.example.com.", "internal.example.com:80"]) assert.not.ok(not({ host }), host);
});

test("methods / notMethods are exact and case-sensitive", async () => {
  const m = await allowIf("to:\n    - operation:\n        methods: [GET, HEAD]\n        notMethods: [HEAD]");
  assert.ok(m({ method: "GET" }));
  assert.not.ok(m({ method: "HEAD" }));
  assert.not.ok(m({ method: "POST" }));
  assert.not.ok(m({ method: "get" }));
});

test("paths / notPaths: exact, prefix, suffix, presence and the {*} / {**} templates", async () => {
  const cases: [string, string[], string[]][] = [
    ["/info", ["/info"], ["/info/", "/infos", "/Info"]],
    ["/api/*", ["/api/", "/api/x/y"], ["/api", "/apix"]],
    ['"*.png"', ["/a/b.png", ".png"], ["/a.png/x", "/a.PNG"]],
    ['"*"', ["/", "/anything"], []],
    ['"/foo/{*}"', ["/foo/bar", "/foo/b%2Fc"], ["/foo/bar/baz", "/foo/", "/foo"]],
    ['"/foo/{**}"', ["/foo/", "/foo/bar", "/foo/bar/baz.txt"], ["/foo", "/foobar"]],
    ['"/foo/{**}/"', ["/foo/bar/", "/foo//"], ["/foo/bar", "/foo/bar/baz.txt"]],
    ['"/foo/{*}/bar/{**}"', ["/foo/buzz/bar/", "/foo/buzz/bar/baz"], ["/foo/buzz/bar", "/foo/a/b/bar/x"]],
  ];
  for (const [pattern, yes, no] of cases) {
    const p = await allowIf(`to:\n    - operation:\n        paths: [${pattern}]`);
    for (const path of yes) assert.ok(p({ path }), `${pattern} should match ${path}`);
    for (const path of no) assert.not.ok(p({ path }), `${pattern} should not match ${path}`);
  }
  const not = await allowIf('to:\n    - operation:\n        notPaths: ["/private*", "/{*}/secret"]');
  assert.ok(not({ path: "/public" }));
  assert.not.ok(not({ path: "/private/x" }));
  assert.not.ok(not({ path: "/a/secret" }));
});

test("ports / notPorts are the destination port", async () => {
  const p = await allowIf('to:\n    - operation:\n        ports: ["8080", "9090"]\n        notPorts: ["9090"]');
  assert.ok(p({ port: 8080 }));
  assert.not.ok(p({ port: 9090 }));
  assert.not.ok(p({ port: 80 }));
});

test("when: request.headers[...] with values and notValues; the name is case-insensitive", async () => {
  const h = await allowIf("when:\n    - key: request.headers[X-Tenant]\n      values: [acme, beta*]");
  assert.ok(h({ headerList: [["x-tenant", "acme"]] }));
  assert.ok(h({ headerList: [["X-TENANT", "beta-2"]] }));
  assert.not.ok(h({ headerList: [["x-tenant", "ACME"]] }), "values are case-sensitive");
  assert.not.ok(h({}));
  const present = await allowIf('when:\n    - key: request.headers[x-debug]\n      values: ["*"]');
  assert.ok(present({ headerList: [["x-debug", ""]] }), "* is presence, even of an empty value");
  assert.not.ok(present({}));
  const not = await allowIf("when:\n    - key: request.headers[x-role]\n      notValues: [guest]");
  assert.ok(not({}), "an absent header is not the excluded value");
  assert.ok(not({ headerList: [["x-role", "admin"]] }));
  assert.not.ok(not({ headerList: [["x-role", "guest"]] }));
});

test("repeated headers: any value counts for values; ALLOW's notValues sees every value, and so does DENY's", async () => {
  const two = (name: string, a: string, b: string): [string, string][] => [[name, a], [name, b]];
  const allow = await allowIf("when:\n    - key: request.headers[x-role]\n      values: [admin]");
  assert.ok(allow({ headerList: two("x-role", "user", "admin") }), "one of the values matches");
  const allowNot = await allowIf("when:\n    - key: request.headers[x-role]\n      notValues: [blocked]");
  assert.not.ok(allowNot({ headerList: two("x-role", "ok", "blocked") }), "an added value cannot hide the excluded one");
  const deny = await authorizer(authz("deny", "  action: DENY\n  rules:\n  - when:\n    - key: request.headers[x-role]\n      values: [evil]\n", { namespace: "shop" }));
  assert.is(deny(req({ headerList: two("x-role", "fine", "evil") })).allowed, false, "any value matching denies");
  assert.is(deny(req({ headerList: [["x-role", "fine,evil"]] })).allowed, false, "a comma-joined single header is the same thing");
  const denyUnless = await authorizer(authz("deny", "  action: DENY\n  rules:\n  - when:\n    - key: request.headers[x-role]\n      notValues: [trusted]\n", { namespace: "shop" }));
  assert.is(denyUnless(req({ headerList: [["x-role", "trusted"]] })).allowed, true);
  assert.is(denyUnless(req({ headerList: two("x-role", "trusted", "evil") })).allowed, false, "the trusted value cannot vouch for another");
  assert.is(denyUnless(req()).allowed, false, "absent is not trusted");
  const withComma = await allowIf('when:\n    - key: request.headers[date]\n      values: ["Wed, 21 Oct 2015*"]');
  assert.ok(withComma({ headerList: [["date", "Wed, 21 Oct 2015 07:28:00 GMT"]] }), "a value with a comma still matches as a whole");
});

test("when: source.ip, remote.ip, destination.ip with notValues", async () => {
  const c = await allowIf(`when:
    - key: source.ip
      values: [10.0.0.0/8]
      notValues: [10.9.9.9]
    - key: remote.ip
      values: [203.0.113.0/24]
    - key: destination.ip
      notValues: ["2001:db8::1"]`);
  const base = { sourceIp: "10.1.1.1", remoteIp: "203.0.113.7", destinationIp: "10.0.0.2" };
  assert.ok(c(base));
  assert.not.ok(c({ ...base, sourceIp: "10.9.9.9" }));
  assert.not.ok(c({ ...base, remoteIp: "198.51.100.1" }));
  assert.not.ok(c({ ...base, destinationIp: "2001:db8::1" }));
  assert.ok(c({ ...base, destinationIp: undefined }), "unknown destination is not the excluded one");
  const dest = await allowIf("when:\n    - key: destination.ip\n      values: [10.0.0.0/8]");
  assert.not.ok(dest({ destinationIp: undefined }));
});

test("when: source.namespace, source.principal, source.serviceAccount, source.trustDomain", async () => {
  const c = await allowIf(`when:
    - key: source.namespace
      values: [shop]
    - key: source.principal
      notValues: ["*/sa/evil"]
    - key: source.serviceAccount
      values: [sleep, shop/evil]
    - key: source.trustDomain
      values: [cluster.local]`);
  assert.ok(c({ principal: SLEEP }));
  assert.not.ok(c({ principal: "cluster.local/ns/shop/sa/evil" }));
  assert.not.ok(c({ principal: "other.td/ns/shop/sa/sleep" }));
  assert.not.ok(c({}));
});

test("when: request.auth.principal, audiences, presenter and claims (nested, lists, space-delimited already split)", async () => {
  const claims: JWTPayload = { iss: "https://idp", sub: "alice", aud: ["web", "api"], azp: "spa", groups: ["dev", "ops"], org: { team: { lead: "carol" } }, level: 3, scope: ["read", "write"] };
  const base = { requestPrincipal: "https://idp/alice", claims };
  const check = async (w: string) => allowIf(`when:\n    - ${w}`);
  assert.ok((await check('key: request.auth.principal\n      values: ["https://idp/*"]'))(base));
  assert.not.ok((await check('key: request.auth.principal\n      notValues: ["*/alice"]'))(base));
  assert.ok((await check("key: request.auth.audiences\n      values: [api]"))(base));
  assert.not.ok((await check("key: request.auth.audiences\n      values: [billing]"))(base));
  assert.ok((await check("key: request.auth.audiences\n      values: [web]"))({ claims: { aud: "web" } }), "a single-string aud");
  assert.not.ok((await check("key: request.auth.audiences\n      notValues: [web]"))(base), "notValues: no element may match");
  assert.ok((await check("key: request.auth.presenter\n      values: [spa]"))(base));
  assert.ok((await check("key: request.auth.claims[groups]\n      values: [ops]"))(base));
  assert.not.ok((await check("key: request.auth.claims[groups]\n      notValues: [ops]"))(base));
  assert.ok((await check("key: request.auth.claims[org][team][lead]\n      values: [carol]"))(base));
  assert.not.ok((await check("key: request.auth.claims[org][team]\n      values: [carol]"))(base), "an object is not a string");
  assert.not.ok((await check('key: request.auth.claims[level]\n      values: ["3"]'))(base), "numbers do not match strings (as in Envoy)");
  assert.ok((await check("key: request.auth.claims[scope]\n      values: [write]"))(base));
  assert.not.ok((await check("key: request.auth.claims[groups]\n      values: [ops]"))({}), "no token, no claims");
  assert.ok((await check("key: request.auth.claims[groups]\n      notValues: [ops]"))({}));
});

test("when: destination.port and connection.sni (case and a trailing dot do not matter)", async () => {
  const c = await allowIf('when:\n    - key: destination.port\n      values: ["8443"]\n    - key: connection.sni\n      values: ["*.example.com"]');
  assert.ok(c({ port: 8443, sni: "api.example.com" }));
  assert.ok(c({ port: 8443, sni: "API.Example.com." }));
  assert.not.ok(c({ port: 8443 }));
  assert.not.ok(c({ port: 8080, sni: "api.example.com" }));
});

test("the decision for one compiled authorizer never depends on an earlier request", async () => {
  const a = await authorizer(authz("allow", "  rules:\n  - from:\n    - source:\n        namespaces: [shop]\n", { namespace: "shop" }));
  const decisions: AuthzDecision[] = [SLEEP, "cluster.local/ns/dev/sa/x", SLEEP].map((principal) => a(req({ principal })));
  assert.equal(decisions.map((d) => d.allowed), [true, false, true]);
});

test.run();
