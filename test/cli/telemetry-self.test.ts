// The proxy's own side of Istio's labels comes from its --labels as a peer's comes from its
// endpoint's: app or app.kubernetes.io/name, version or app.kubernetes.io/version, and the
// canonical service and revision labels; the principal only from a certificate.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setupTelemetry } from "../../runtime/cli/telemetry-setup.ts";
import { peerFromEndpoint } from "../../runtime/telemetry/workload-info.ts";

const base = { namespace: "shop", accessLogFormat: "off", clusters: () => [], newRequestId: () => "id", log: () => {} };

test("Kubernetes' recommended labels and Istio's canonical labels, read as a peer's are", () => {
  const labels = { "app.kubernetes.io/name": "cart", "app.kubernetes.io/version": "2.1", "service.istio.io/canonical-name": "cart-svc", "service.istio.io/canonical-revision": "r7" };
  const { self } = setupTelemetry({ ...base, labels });
  const asPeer = peerFromEndpoint({ labels, namespace: "shop" });
  for (const field of ["namespace", "app", "version", "canonicalService", "canonicalRevision"] as const) assert.is(self[field], asPeer[field], field);
  assert.is(self.workload, "cart-2.1");
  assert.is(self.version, "2.1");
  assert.is(self.canonicalService, "cart-svc");
  assert.is(self.canonicalRevision, "r7");
  assert.is(self.principal, undefined, "no certificate, no principal");
});

test("app and version win over the Kubernetes names, as for a peer", () => {
  const { self } = setupTelemetry({ ...base, labels: { app: "a", version: "v1", "app.kubernetes.io/name": "x", "app.kubernetes.io/version": "9" }, principal: "spiffe://example.org/ns/shop/sa/a" });
  assert.is(self.workload, "a-v1");
  assert.is(self.principal, "spiffe://example.org/ns/shop/sa/a");
});

test.run();
