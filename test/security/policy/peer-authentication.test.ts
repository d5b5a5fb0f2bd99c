// PeerAuthentication resolution: workload > namespace > mesh, UNSET inheriting, port-level
// overrides, istiod's tie-break, and the policies that must not reach a workload.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compilePeerAuthentication, resolvePeerAuthentication } from "../../../runtime/security/policy/peer-authentication.ts";
import { loadPolicies } from "./load-policies.ts";

const web = { namespace: "shop", labels: { app: "web", version: "v1" } };

function pa(name: string, namespace: string, spec: string, created?: string): string {
  return `apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${created ? `  creationTimestamp: "${created}"\n` : ""}spec:\n${spec}`;
}
const mode = (m: string) => `  mtls:\n    mode: ${m}\n`;
const selector = (labels: string) => `  selector:\n    matchLabels: ${labels}\n`;

async function resolve(...docs: string[]) {
  const config = await loadPolicies(...docs);
  return resolvePeerAuthentication(config.peerAuthentications, web);
}

test("nothing set anywhere → PERMISSIVE", async () => {
  const r = resolvePeerAuthentication([], web);
  assert.equal([r.mode, r.ports.size, r.chosen], ["PERMISSIVE", 0, {}]);
});

test("mesh, then namespace, then workload: the narrowest that sets a mode wins", async () => {
  assert.is((await resolve(pa("mesh", "istio-system", mode("STRICT")))).mode, "STRICT");
  const ns = await resolve(pa("mesh", "istio-system", mode("STRICT")), pa("ns", "shop", mode("PERMISSIVE")));
  assert.equal([ns.mode, ns.chosen], ["PERMISSIVE", { mesh: "istio-system/mesh", namespace: "shop/ns" }]);
  const wl = await resolve(pa("mesh", "istio-system", mode("STRICT")), pa("ns", "shop", mode("PERMISSIVE")), pa("wl", "shop", selector("{app: web}") + mode("DISABLE")));
  assert.equal([wl.mode, wl.chosen.workload], ["DISABLE", "shop/wl"]);
});

test("UNSET (or no mtls at all) inherits from the level above", async () => {
  assert.is((await resolve(pa("mesh", "istio-system", mode("STRICT")), pa("ns", "shop", mode("UNSET")))).mode, "STRICT");
  assert.is((await resolve(pa("mesh", "istio-system", mode("STRICT")), pa("ns", "shop", "  mtls: {}\n"))).mode, "STRICT");
  assert.is((await resolve(pa("ns", "shop", mode("DISABLE")), pa("wl", "shop", selector("{app: web}")))).mode, "DISABLE");
  assert.is((await resolve(pa("mesh", "istio-system", mode("UNSET")))).mode, "PERMISSIVE");
});

test("portLevelMtls overrides per port; UNSET on a port takes the workload's mode", async () => {
  const config = await loadPolicies(
    pa("ns", "shop", mode("STRICT")),
    pa("wl", "shop", `${selector("{app: web}")}${mode("PERMISSIVE")}  portLevelMtls:\n    8080:\n      mode: DISABLE\n    9090:\n      mode: UNSET\n`),
  );
  const peerMode = compilePeerAuthentication(config.peerAuthentications, web);
  assert.equal([peerMode(8080), peerMode(9090), peerMode(15000)], ["DISABLE", "PERMISSIVE", "PERMISSIVE"]);
});

test("a selector policy in the root namespace is ignored, as istiod ignores it", async () => {
  const r = await resolve(pa("mesh", "istio-system", mode("STRICT")), pa("odd", "istio-system", `${selector("{app: web}")}${mode("DISABLE")}`));
  assert.equal([r.mode, r.chosen], ["STRICT", { mesh: "istio-system/mesh" }]);
});

test("policies of other namespaces and non-matching selectors do not reach the workload; empty matchLabels is namespace-wide", async () => {
  assert.is((await resolve(pa("other", "billing", mode("DISABLE")))).mode, "PERMISSIVE");
  assert.is((await resolve(pa("wl", "shop", `${selector("{app: web, version: v2}")}${mode("DISABLE")}`))).mode, "PERMISSIVE");
  const empty = await resolve(pa("ns", "shop", `${selector("{}")}${mode("STRICT")}`));
  assert.equal([empty.mode, empty.chosen], ["STRICT", { namespace: "shop/ns" }]);
});

test("several at one level: the oldest wins, then the name; no timestamp counts as oldest", async () => {
  const older = await resolve(pa("b", "shop", mode("STRICT"), "2024-01-01T00:00:00Z"), pa("a", "shop", mode("DISABLE"), "2024-06-01T00:00:00Z"));
  assert.equal([older.mode, older.chosen.namespace], ["STRICT", "shop/b"]);
  const sameTime = await resolve(pa("b", "shop", mode("STRICT"), "2024-01-01T00:00:00Z"), pa("a", "shop", mode("DISABLE"), "2024-01-01T00:00:00Z"));
  assert.equal([sameTime.mode, sameTime.chosen.namespace], ["DISABLE", "shop/a"]);
  const untimed = await resolve(pa("z", "shop", mode("DISABLE")), pa("a", "shop", mode("STRICT"), "2024-01-01T00:00:00Z"));
  assert.is(untimed.chosen.namespace, "shop/z");
  const workloads = await resolve(pa("w2", "shop", selector("{app: web}") + mode("STRICT"), "2023-01-01T00:00:00Z"), pa("w1", "shop", selector("{version: v1}") + mode("DISABLE"), "2024-01-01T00:00:00Z"));
  assert.equal([workloads.mode, workloads.chosen.workload], ["STRICT", "shop/w2"]);
});

test("a custom root namespace", async () => {
  const config = await loadPolicies(pa("mesh", "mesh-root", mode("STRICT")), pa("mesh", "istio-system", mode("DISABLE")));
  assert.is(resolvePeerAuthentication(config.peerAuthentications, web, "mesh-root").mode, "STRICT");
  assert.is(resolvePeerAuthentication(config.peerAuthentications, web).mode, "DISABLE");
});

test.run();
