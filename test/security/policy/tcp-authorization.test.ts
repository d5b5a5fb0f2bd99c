// AuthorizationPolicy for TCP connections: principals, namespaces, ipBlocks and ports decide as for
// HTTP; a rule naming an HTTP-only field allows nothing in an ALLOW policy and, in a DENY policy,
// loses that field (so it denies more), as Istio's network RBAC does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileTcpAuthorization, hasHttpOnlyFields } from "../../../runtime/security/policy/tcp-authorization.ts";
import type { AuthzAttributes } from "../../../runtime/security/policy/attributes.ts";
import { authz, loadPolicies } from "./load-policies.ts";

const workload = { namespace: "shop", labels: { app: "db" } };
const conn = (principal: string | undefined, sourceIp = "10.0.0.9", port = 9000): AuthzAttributes => ({ host: "", method: "", path: "", port, headers: new Headers(), sourceIp, remoteIp: sourceIp, principal });

async function tcp(...docs: string[]) {
  const config = await loadPolicies(...docs);
  const authorize = compileTcpAuthorization(config.authorizationPolicies, workload);
  return (c: AuthzAttributes) => authorize(c).allowed;
}

test("ALLOW by principal, namespace, ipBlock and port", async () => {
  const allowed = await tcp(authz("tcp", `  action: ALLOW
  rules:
  - from: [{ source: { principals: [cluster.local/ns/shop/sa/app] } }]
    to: [{ operation: { ports: ["9000"] } }]
  - from: [{ source: { namespaces: [ops], ipBlocks: [10.1.0.0/16] } }]
`, { namespace: "shop" }));
  assert.ok(allowed(conn("cluster.local/ns/shop/sa/app")));
  assert.not.ok(allowed(conn("cluster.local/ns/shop/sa/app", "10.0.0.9", 9001)), "other port");
  assert.not.ok(allowed(conn("cluster.local/ns/shop/sa/other")));
  assert.not.ok(allowed(conn(undefined)), "no mTLS principal");
  assert.ok(allowed(conn("cluster.local/ns/ops/sa/x", "10.1.2.3")));
  assert.not.ok(allowed(conn("cluster.local/ns/ops/sa/x", "10.2.2.3")), "outside the ipBlock");
});

test("an ALLOW rule with an HTTP-only field allows no TCP connection, even from its principal", async () => {
  const allowed = await tcp(authz("http-only", `  action: ALLOW
  rules:
  - from: [{ source: { principals: [cluster.local/ns/shop/sa/app] } }]
    to: [{ operation: { methods: [GET] } }]
`, { namespace: "shop" }));
  assert.not.ok(allowed(conn("cluster.local/ns/shop/sa/app")));
});

test("a DENY rule with an HTTP-only field loses it and denies the rest of its match", async () => {
  const allowed = await tcp(authz("deny", `  action: DENY
  rules:
  - from: [{ source: { namespaces: [evil] } }]
    to: [{ operation: { paths: [/admin] } }]
    when: [{ key: "request.headers[x-a]", values: [b] }]
`, { namespace: "shop" }));
  assert.not.ok(allowed(conn("cluster.local/ns/evil/sa/x")), "denied although no path or header exists on TCP");
  assert.ok(allowed(conn("cluster.local/ns/good/sa/x")), "the namespace still narrows the deny");
});

test("hasHttpOnlyFields", () => {
  assert.ok(hasHttpOnlyFields({ from: [{ source: { requestPrincipals: ["*"] } }] }));
  assert.ok(hasHttpOnlyFields({ to: [{ operation: { hosts: ["a"] } }] }));
  assert.ok(hasHttpOnlyFields({ when: [{ key: "request.auth.claims[iss]", values: ["x"] }] }));
  assert.not.ok(hasHttpOnlyFields({ from: [{ source: { principals: ["a"], ipBlocks: ["1.2.3.4"] } }], to: [{ operation: { ports: ["1"] } }], when: [{ key: "source.ip", values: ["1.2.3.4"] }] }));
});

test.run();
