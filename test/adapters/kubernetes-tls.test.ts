// The Kubernetes registry over HTTPS the way clusters are reached: a kubeconfig with the cluster's
// CA and a client certificate (or the in-cluster CA file), through runtime/platform/tls-fetch.ts.
// The test API server gets a TLS front (the mesh listener) that requires that exact client
// certificate; a client without it, or one trusting another CA, never syncs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform, type Server } from "../../runtime/platform/index.ts";
import { listenHttp1Mesh } from "../../runtime/exchange/http1/listen.ts";
import { createTlsFetch } from "../../runtime/platform/tls-fetch.ts";
import { kubeOptionsFrom, kubernetesRegistry } from "../../adapters/kubernetes/index.ts";
import { createRootCa, issueSvid } from "../../runtime/security/ca.ts";
import { generateWorkloadKey, privateKeyToPem } from "../../runtime/security/keys.ts";
import { certificatesToPem } from "../../runtime/security/pem.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
import type { RegistrySnapshot } from "../../runtime/model/types.ts";
import { createKubeStore, kubeClient, startKubeApi } from "../support/kube-api.ts";
import { eventually } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

const ca = await createRootCa({ trustDomain: "cluster.local", clock: systemClock });
const otherCa = await createRootCa({ trustDomain: "cluster.local", clock: systemClock });
async function leaf(authority: typeof ca, name: string, serverNames?: string[]) {
  const keys = await generateWorkloadKey();
  const cert = await issueSvid(authority, { spiffeId: SpiffeId.forWorkload("cluster.local", "kube-system", name), publicKey: keys.publicKey, clock: systemClock, serverNames });
  return { pem: certificatesToPem([cert]), keyPem: await privateKeyToPem(keys.privateKey), der: new Uint8Array(cert.rawData) };
}
const server = await leaf(ca, "kube-apiserver", ["127.0.0.1"]);
const admin = await leaf(ca, "admin");
const caPem = certificatesToPem([ca.certificate]);

const store = createKubeStore();
const api = startKubeApi({ store });
const client = kubeClient(store);
let front: Server;
let dir = "";
const b64 = (text: string) => btoa(text);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

test.before(async () => {
  dir = await platform.makeTempDir("dietmesh-kube-tls-");
  front = await listenHttp1Mesh({
    hostname: "127.0.0.1",
    port: 0,
    // the API server behind TLS: requests pass through, watches stream
    handler: (request, conn) => upstreamClient.send({ url: `http://${api.address.replace(/^https?:\/\//, "")}${request.rawTarget}`, method: request.method, headers: request.headers, body: request.body }),
    credentials: () => ({ certChainPem: server.pem, keyPem: server.keyPem, rootCertsPem: caPem }),
    accept: () => ({ plaintext: false, tls: true, clientCertificate: true }),
    verifyPeer: async (der) => (sameBytes(der, admin.der) ? null : "not the admin certificate"),
  });
  await client.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "web", namespace: "default" } });
  await client.apply({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } });
  await client.apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "web-1", namespace: "default", labels: { app: "web", version: "v1" } }, spec: { serviceAccountName: "web", containers: [{ name: "app", image: "web:1" }] } });
  await client.apply({
    apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
    metadata: { name: "web-http", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4", ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: [{ addresses: ["10.1.0.7"], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: "default", name: "web-1" } }],
  });
});

test.after(async () => {
  await front.stop(true);
  await api.stop();
  await platform.remove(dir);
});

async function registryFrom(user: string, caData = caPem) {
  const path = `${dir}/kubeconfig-${Math.random().toString(36).slice(2)}`;
  await platform.writeTextFile(path, `apiVersion: v1
kind: Config
current-context: test
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${front.port}", certificate-authority-data: ${b64(caData)} } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: test, context: { cluster: c, user: u } }]
`);
  const logs: string[] = [];
  const options = await kubeOptionsFrom({ kubeconfig: path }, () => undefined, platform.readTextFile);
  const registry = kubernetesRegistry({ ...options, tls: createTlsFetch, backoff: { baseMs: 50, maxMs: 200 }, log: (m) => logs.push(m) });
  let last: RegistrySnapshot | undefined;
  registry.start((s) => (last = s));
  return { registry, logs, last: () => last };
}

test("a kubeconfig with the cluster CA and a client certificate: the registry syncs over HTTPS and follows a watch", async () => {
  const r = await registryFrom(`{ client-certificate-data: ${b64(admin.pem)}, client-key-data: ${b64(admin.keyPem)} }`);
  try {
    const service = await eventually(async () => r.last()?.services.get("web.default.svc.cluster.local"), 5000, `the web service (logs: ${r.logs.join(" | ")})`);
    assert.equal(service.endpoints.map((e) => [e.address, e.labels.version, e.identity]), [["10.1.0.7", "v1", "spiffe://cluster.local/ns/default/sa/web"]]);
    // a change arrives through the (streamed) watch
    await client.apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "web-1", namespace: "default", labels: { app: "web", version: "v2" } }, spec: { serviceAccountName: "web", containers: [{ name: "app", image: "web:2" }] } });
    await eventually(async () => r.last()?.services.get("web.default.svc.cluster.local")?.endpoints[0]?.labels.version === "v2", 5000, "the relabelled pod");
  } finally {
    r.registry.stop();
  }
});

for (const [what, user, caData] of [
  ["without a client certificate", "{ token: abc }", caPem],
  ["trusting another CA", `{ client-certificate-data: ${b64(admin.pem)}, client-key-data: ${b64(admin.keyPem)} }`, certificatesToPem([otherCa.certificate])],
] as const) {
  test(`${what}: no sync, and the failure is logged`, async () => {
    const r = await registryFrom(user, caData);
    try {
      await eventually(async () => r.logs.some((l) => /retrying|failed|error/i.test(l)), 5000, "a logged failure");
      assert.is(r.registry.synced(), false);
      assert.is(r.last(), undefined);
    } finally {
      r.registry.stop();
    }
  });
}

test.run();
