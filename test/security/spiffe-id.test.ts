// SPIFFE ID parsing: every rule of the spec, one row each, plus Istio's ns/sa and principal forms.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SpiffeId, SpiffeIdError, parseSpiffeId, type SpiffeIdRule } from "../../runtime/security/spiffe-id.ts";
import { SecurityError } from "../../runtime/security/errors.ts";

const valid = [
  "spiffe://cluster.local/ns/default/sa/sleep",
  "spiffe://example.org",
  "spiffe://a-b_c.9/x",
  "spiffe://td/Path.With-Mixed_Case/09",
  "spiffe://td/...x/x..", // dots inside a segment are fine; only whole "." and ".." segments are not
  `spiffe://td/${"a".repeat(2048 - "spiffe://td/".length)}`,
];

const invalid: [string, SpiffeIdRule][] = [
  ["", "empty"],
  [`spiffe://td/${"a".repeat(2049 - "spiffe://td/".length)}`, "too-long"],
  [`spiffe://${"a".repeat(256)}/x`, "too-long"],
  ["http://td/x", "scheme"],
  ["SPIFFE://td/x", "scheme"],
  ["spiffe:/td/x", "scheme"],
  ["td/ns/default/sa/x", "scheme"],
  ["spiffe://", "trust-domain-missing"],
  ["spiffe:///ns/x", "trust-domain-missing"],
  ["spiffe://Cluster.local/x", "trust-domain-chars"],
  ["spiffe://clu%73ter/x", "trust-domain-chars"],
  ["spiffe://td!/x", "trust-domain-chars"],
  ["spiffe://user@td/x", "userinfo"],
  ["spiffe://td:443/x", "port"],
  ["spiffe://td/x?y=1", "query-or-fragment"],
  ["spiffe://td/x#frag", "query-or-fragment"],
  ["spiffe://td/x y", "path-chars"],
  ["spiffe://td/a%2Fb", "path-chars"],
  ["spiffe://td/ü", "path-chars"],
  ["spiffe://td/a//b", "empty-segment"],
  ["spiffe://td/./x", "dot-segment"],
  ["spiffe://td/x/..", "dot-segment"],
  ["spiffe://td/", "trailing-slash"],
  ["spiffe://td/x/", "trailing-slash"],
];

test("valid IDs parse and print back unchanged", () => {
  for (const text of valid) {
    const id = parseSpiffeId(text);
    assert.is(id.toString(), text, text);
    assert.ok(Object.isFrozen(id));
  }
});

test("each broken rule is refused with a typed error naming the rule", () => {
  for (const [text, rule] of invalid) {
    const result = SpiffeId.tryParse(text);
    assert.not.ok(result.ok, `${text} should be invalid`);
    if (result.ok) continue;
    assert.instance(result.error, SpiffeIdError);
    assert.instance(result.error, SecurityError);
    assert.is(result.error.code, "spiffe-id-invalid");
    assert.is(result.error.rule, rule, `${text}: ${result.error.message}`);
  }
  assert.throws(() => SpiffeId.parse("spiffe://td/x/"), (e: unknown) => e instanceof SpiffeIdError && e.rule === "trailing-slash");
});

test("trust domain and path are parts of the value", () => {
  const id = parseSpiffeId("spiffe://cluster.local/ns/default/sa/sleep");
  assert.is(id.trustDomain, "cluster.local");
  assert.is(id.path, "/ns/default/sa/sleep");
  assert.equal(id.segments(), ["ns", "default", "sa", "sleep"]);
  assert.equal(parseSpiffeId("spiffe://example.org").segments(), []);
  assert.is(JSON.stringify({ id }), '{"id":"spiffe://cluster.local/ns/default/sa/sleep"}');
});

test("Istio's workload form: forWorkload, namespace(), serviceAccount()", () => {
  const id = SpiffeId.forWorkload("cluster.local", "bookinfo", "reviews-v2");
  assert.is(id.toString(), "spiffe://cluster.local/ns/bookinfo/sa/reviews-v2");
  assert.is(id.namespace(), "bookinfo");
  assert.is(id.serviceAccount(), "reviews-v2");
  for (const other of ["spiffe://td/ns/a/sa/b/extra", "spiffe://td/ns/a", "spiffe://td/sa/a/ns/b", "spiffe://td"]) {
    assert.is(parseSpiffeId(other).namespace(), undefined, other);
    assert.is(parseSpiffeId(other).serviceAccount(), undefined, other);
  }
  // a "/" in a name would otherwise smuggle in a longer, different path
  assert.throws(() => SpiffeId.forWorkload("cluster.local", "a/b", "c"), (e: unknown) => e instanceof SpiffeIdError);
  assert.throws(() => SpiffeId.forWorkload("cluster.local/ns/x", "a", "c"), (e: unknown) => e instanceof SpiffeIdError);
  assert.is(SpiffeId.forTrustDomain("example.org").toString(), "spiffe://example.org");
  assert.throws(() => SpiffeId.forTrustDomain("example.org/x"), (e: unknown) => e instanceof SpiffeIdError);
});

test("AuthorizationPolicy principals: <td>/ns/<ns>/sa/<sa> both ways", () => {
  const id = SpiffeId.forWorkload("cluster.local", "default", "sleep");
  assert.is(id.principal(), "cluster.local/ns/default/sa/sleep");
  const back = SpiffeId.fromPrincipal("cluster.local/ns/default/sa/sleep");
  assert.ok(back.equals(id));
  assert.not.ok(back.equals(SpiffeId.forWorkload("cluster.local", "default", "other")));
  assert.throws(() => SpiffeId.fromPrincipal("spiffe://cluster.local/ns/a/sa/b"), (e: unknown) => e instanceof SpiffeIdError);
});

test.run();
