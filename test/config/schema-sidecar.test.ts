// The Sidecar schema (runtime/config/schema-sidecar.ts): a full resource loads; egress hosts must be
// "namespace/dnsName" with Istio's namespace forms and wildcards; what dietmesh does not build
// (per-port egress, bind, captureMode, ingress, inboundConnectionPool, egressProxy) is refused with
// its field path, and so is a second catch-all egress listener.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { memoryIO } from "./memory-io.ts";

const load = (spec: string, version = "v1") =>
  loadConfig(["s.yaml"], { defaultNamespace: "default", ...memoryIO({ "s.yaml": `apiVersion: networking.istio.io/${version}\nkind: Sidecar\nmetadata: { name: s, namespace: shop }\nspec:\n${spec}` }) });

test("a Sidecar with selector, egress hosts and outbound traffic policy loads (v1alpha3, v1beta1, v1)", async () => {
  for (const version of ["v1alpha3", "v1beta1", "v1"]) {
    const { config, errors } = await load(`  workloadSelector: { labels: { app: cart } }\n  egress:\n  - hosts: ["./*", "istio-system/*", "*/api.example.com", "~/*", "web/*.example.com"]\n  outboundTrafficPolicy: { mode: REGISTRY_ONLY }\n`, version);
    assert.equal(errors, [], version);
    const s = config!.sidecars[0];
    assert.is(s.metadata.namespace, "shop");
    assert.equal(s.spec.egress![0].hosts, ["./*", "istio-system/*", "*/api.example.com", "~/*", "web/*.example.com"]);
    assert.is(s.spec.outboundTrafficPolicy!.mode, "REGISTRY_ONLY");
  }
});

test("egress hosts that are not namespace/dnsName are refused with their path", async () => {
  const cases: [string, RegExp][] = [
    ["api.example.com", /expected "namespace\/dnsName"/],
    ["a/b/c", /expected "namespace\/dnsName"/],
    ["Bad_NS/*", /namespace part must be/],
    ["./", /dnsName part must not be empty/],
    ["./api.example.com:80", /without scheme or port/],
    ["./api.*.com", /wildcard may only be the first label/],
    ["./*foo.com", /wildcard may only be the first label/],
  ];
  for (const [host, message] of cases) {
    const { config, errors } = await load(`  egress:\n  - hosts: ["./*", ${JSON.stringify(host)}]\n`);
    assert.is(config, undefined, host);
    assert.equal(errors.map((e) => e.path), ["spec.egress[0].hosts[1]"], host);
    assert.match(errors[0].message, message, host);
  }
  const empty = await load(`  egress:\n  - hosts: []\n`);
  assert.equal(empty.errors.map((e) => e.path), ["spec.egress[0].hosts"]);
});

test("what dietmesh does not build is refused at load with the field path", async () => {
  const cases: [string, string][] = [
    ["  egress:\n  - port: { number: 8080, protocol: HTTP, name: http }\n    hosts: [\"./*\"]\n", "spec.egress[0].port"],
    ["  egress:\n  - bind: 127.0.0.2\n    hosts: [\"./*\"]\n", "spec.egress[0].bind"],
    ["  egress:\n  - captureMode: NONE\n    hosts: [\"./*\"]\n", "spec.egress[0].captureMode"],
    ["  ingress:\n  - port: { number: 9080, protocol: HTTP, name: http }\n    defaultEndpoint: 127.0.0.1:8080\n", "spec.ingress"],
    ["  inboundConnectionPool: { http: { http1MaxPendingRequests: 10 } }\n", "spec.inboundConnectionPool"],
    ["  outboundTrafficPolicy: { mode: REGISTRY_ONLY, egressProxy: { host: egress.istio-system.svc.cluster.local } }\n", "spec.outboundTrafficPolicy.egressProxy"],
    ["  outboundTrafficPolicy: { mode: ALLOW_SOME }\n", "spec.outboundTrafficPolicy.mode"],
    ["  egress:\n  - hosts: [\"./*\"]\n  - hosts: [\"istio-system/*\"]\n", "spec.egress[1]"],
    ["  egress:\n  - hosts: [\"./*\"]\n    exportTo: [\".\"]\n", "spec.egress[0].exportTo"],
  ];
  for (const [spec, path] of cases) {
    const { config, errors } = await load(spec);
    assert.is(config, undefined, path);
    assert.equal(errors.map((e) => [e.code, e.kind, e.name, e.path]), [["schema", "Sidecar", "s", path]], path);
  }
});

test.run();
