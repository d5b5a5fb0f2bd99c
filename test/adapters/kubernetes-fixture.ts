// A Kubernetes registry against the test API server over real HTTP on loopback, for the
// conformance suite and the adapter's tests. Changes go straight into the server's store, as a
// cluster's controllers would write them (a Service, a Pod per instance, and the EndpointSlices
// the EndpointSlice controller would keep: one per port, since a slice's ports apply to all of its
// endpoints), so they can be made while the server is down. fail() stops the server; recover()
// starts a new one on the same port over the same store, as an API server restart would.
import { kubernetesRegistry } from "../../adapters/kubernetes/index.ts";
import type { KubeOptions } from "../../adapters/kubernetes/options.ts";
import { createKubeStore, kubeClient, startKubeApi, type KubeApi, type KubeStore } from "../support/kube-api.ts";
import type { Instance, RegistryFixture } from "./registry-conformance.ts";

export interface KubeFixture extends RegistryFixture {
  api(): KubeApi;
  store: KubeStore;
  client: ReturnType<typeof kubeClient>;
  logs: string[];
}

interface Known {
  instances: Instance[];
  unready: Set<string>;
  slices: Set<string>;
}

export async function kubeFixture(options: Partial<KubeOptions> & { token?: string } = {}): Promise<KubeFixture> {
  const { token, ...registryOptions } = options;
  const store = createKubeStore();
  const client = kubeClient(store);
  let api = startKubeApi({ store, token, bookmarkIntervalMs: 1000 });
  const port = api.port;
  const logs: string[] = [];
  const registry = kubernetesRegistry({
    server: api.address,
    origin: "test",
    ...(token ? { token } : {}),
    backoff: { baseMs: 50, maxMs: 400 },
    watchBackoff: { baseMs: 50, maxMs: 400 },
    log: (message) => logs.push(message),
    ...registryOptions,
  });
  const known = new Map<string, Known>();

  /** the slices the EndpointSlice controller would keep for the service's pods now */
  async function sync(name: string): Promise<void> {
    const k = known.get(name)!;
    const byPort = new Map<number, Instance[]>();
    for (const i of k.instances) byPort.set(i.port, [...(byPort.get(i.port) ?? []), i]);
    const wanted = new Set<string>();
    for (const [p, instances] of byPort) {
      const slice = `${name}-${p}`;
      wanted.add(slice);
      await client.apply({
        apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
        metadata: { name: slice, namespace: "default", labels: { "kubernetes.io/service-name": name } },
        addressType: "IPv4",
        ports: [{ name: "http", port: p, protocol: "TCP" }],
        endpoints: instances.map((i) => ({
          addresses: [i.address],
          conditions: { ready: !k.unready.has(i.id), serving: !k.unready.has(i.id), terminating: false },
          targetRef: { kind: "Pod", namespace: "default", name: i.id },
        })),
      });
    }
    for (const slice of k.slices) if (!wanted.has(slice)) await client.delete("discovery.k8s.io/v1", "EndpointSlice", "default", slice);
    k.slices = wanted;
  }

  return {
    registry,
    store,
    client,
    logs,
    api: () => api,
    host: (name) => `${name}.default.svc.cluster.local`,
    async addService(name, instances) {
      await client.apply({
        apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" },
        spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      });
      for (const i of instances) {
        await client.apply({
          apiVersion: "v1", kind: "Pod", metadata: { name: i.id, namespace: "default", labels: { app: name, ...i.labels } },
          spec: { containers: [{ name: "app", image: "app:1", ports: [{ name: "http", containerPort: i.port }] }] },
        });
      }
      known.set(name, { instances: [...instances], unready: new Set(), slices: known.get(name)?.slices ?? new Set() });
      await sync(name);
    },
    async removeInstance(name, id) {
      const k = known.get(name)!;
      k.instances = k.instances.filter((i) => i.id !== id);
      await client.delete("v1", "Pod", "default", id);
      await sync(name);
    },
    async setHealthy(name, id, healthy) {
      const k = known.get(name)!;
      if (healthy) k.unready.delete(id);
      else k.unready.add(id);
      await sync(name);
    },
    async removeService(name) {
      const k = known.get(name)!;
      k.instances = [];
      await sync(name);
      await client.delete("v1", "Service", "default", name);
      known.delete(name);
    },
    async fail() {
      await api.stop();
    },
    async recover() {
      api = startKubeApi({ store, port, token, bookmarkIntervalMs: 1000 });
    },
    failures: () => logs.filter((l) => l.includes("retrying")).length,
    async close() {
      registry.stop();
      await api.stop();
    },
  };
}
