// The static registry through the conformance suite, driven the way the sidecar drives it: YAML
// files in a folder, loaded and validated whole, each accepted load published; a rejected load
// (the "failure" of a file source) publishes nothing. A static endpoint has no health signal, so
// "unhealthy" is the endpoint left out of the file.
import { platform } from "../../runtime/platform/index.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { staticRegistry } from "../../runtime/model/registry.ts";
import { registryConformance, type Instance } from "./registry-conformance.ts";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };

function serviceEntry(name: string, instances: Instance[]): string {
  const endpoints = instances.map((i) => `  - address: ${i.address}\n    ports: { http: ${i.port} }\n    labels: ${JSON.stringify(i.labels ?? {})}`);
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints:${endpoints.length ? "\n" + endpoints.join("\n") : " []"}
`;
}

const test = registryConformance("static", async () => {
  const dir = await platform.makeTempDir("dietmesh-static-registry-");
  const registry = staticRegistry();
  const services = new Map<string, { instances: Instance[]; unhealthy: Set<string> }>();
  let failures = 0;
  let broken = false;

  async function sync(): Promise<void> {
    for (const name of await platform.readDir(dir)) await platform.remove(`${dir}/${name}`);
    for (const [name, s] of services) {
      await platform.writeTextFile(`${dir}/${name}.yaml`, serviceEntry(name, s.instances.filter((i) => !s.unhealthy.has(i.id))));
    }
    if (broken) await platform.writeTextFile(`${dir}/broken.yaml`, "kind: ServiceEntry\nspec: { hosts: [unclosed\n");
    const result = await loadConfig([dir], { defaultNamespace: "default", ...io });
    if (!result.config) failures++;
    else registry.publish(snapshotFromConfig(result.config.serviceEntries, result.config.workloadEntries));
  }
  const service = (name: string) => services.get(name)!;

  return {
    registry,
    host: (name) => `${name}.mesh.internal`,
    async addService(name, instances) {
      services.set(name, { instances, unhealthy: new Set() });
      await sync();
    },
    async removeInstance(name, id) {
      service(name).instances = service(name).instances.filter((i) => i.id !== id);
      await sync();
    },
    async setHealthy(name, id, healthy) {
      if (healthy) service(name).unhealthy.delete(id);
      else service(name).unhealthy.add(id);
      await sync();
    },
    async removeService(name) {
      services.delete(name);
      await sync();
    },
    async fail() {
      broken = true;
      await sync();
    },
    async recover() {
      broken = false;
      await sync();
    },
    failures: () => failures,
    close: () => platform.remove(dir),
  };
});

test.run();
