// Auto mTLS follows a ServiceEntry's location, as in Istio: a MESH_EXTERNAL service (the default
// location) is reached in plaintext even when its endpoints carry an identity or Istio's tlsMode
// label; only a DestinationRule's ISTIO_MUTUAL asks for mTLS to it. From YAML through the loader,
// the static registry and compile to the cluster's TLS targets.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { tlsTargets, type MeshTls } from "../../runtime/upstream/upstream-tls.ts";
import { memoryIO } from "../config/memory-io.ts";

/** a ServiceEntry for `name`.example whose endpoints are in the mesh (an identity; the tlsMode label) */
const entry = (name: string, location?: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.example]
${location ? `  location: ${location}\n` : ""}  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints:
  - { address: 10.0.0.1, serviceAccount: ${name} }
  - { address: 10.0.0.2, labels: { security.istio.io/tlsMode: istio } }
---
`;
const rule = (name: string, mode: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: default }
spec:
  host: ${name}.example
  trafficPolicy: { tls: { mode: ${mode} } }
---
`;

const MESH: MeshTls = { credentials: () => null, trustDomain: "cluster.local" };

/** service name → how many of its two endpoints are reached over mTLS */
async function mtlsHosts(text: string): Promise<Record<string, number>> {
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": text }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "sidecar", namespace: "default", labels: {} }, { random: () => 0, version: 1 });
  const out: Record<string, number> = {};
  for (const cluster of table.clusters.values()) out[cluster.service.hostname.split(".")[0]] = tlsTargets(cluster, MESH).size;
  return out;
}

test("auto mTLS: MESH_INTERNAL endpoints in the mesh get mTLS; MESH_EXTERNAL, written or by default, gets none", async () => {
  assert.equal(await mtlsHosts(entry("internal", "MESH_INTERNAL") + entry("external", "MESH_EXTERNAL") + entry("unset")), { internal: 2, external: 0, unset: 0 });
});

test("ISTIO_MUTUAL still asks for mTLS to a MESH_EXTERNAL service; DISABLE turns it off for a MESH_INTERNAL one", async () => {
  assert.equal(await mtlsHosts(entry("external", "MESH_EXTERNAL") + rule("external", "ISTIO_MUTUAL") + entry("internal", "MESH_INTERNAL") + rule("internal", "DISABLE")), { external: 2, internal: 0 });
});

test.run();
