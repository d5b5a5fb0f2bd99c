// A fresh process for test/library/lazy-imports.test.ts: creates a mesh from objects (`resources`),
// makes one mesh.fetch, and prints which of the heavy packages got loaded. Bun lists every loaded
// module, ES modules too, in require.cache; Deno has no such registry, so there the test maps the
// packages to a module that throws when loaded (an import map) and this process simply has to work.
//   <runtime> test/library/lazy-imports-child.ts PORT
import { createMesh } from "../../runtime/library/index.ts";

const port = Number((globalThis as any).Deno ? (globalThis as any).Deno.args[0] : process.argv[2]);
const resources = [
  {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "svc", namespace: "default" },
    spec: { hosts: ["svc.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 8080, name: "http", protocol: "HTTP" }], endpoints: [{ address: "127.0.0.1", ports: { http: port } }] },
  },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc"], http: [{ match: [{ uri: { prefix: "/" } }], route: [{ destination: { host: "svc" } }] }] } },
];
const mesh = await createMesh({ resources, labels: { app: "lazy" }, log: () => {} });
const response = await mesh.fetch("http://svc:8080/x");
const body = await response.text();
await mesh.close();
const registry = (import.meta as any).require?.cache as Record<string, unknown> | undefined;
const packages = registry ? [...new Set(Object.keys(registry).map((path) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]).filter(Boolean))].sort() : null;
console.log(JSON.stringify({ status: response.status, body, packages }));
