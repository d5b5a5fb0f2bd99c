// One cold start of the library, in a fresh process (bench/cold-start.ts runs it many times):
// import, createMesh with a small config (as objects, or from a file), the first mesh.fetch; or,
// with `modules`, the import graph's heavy parts imported one after the other, each timed on top
// of those before it (a part's own cost, less what earlier parts already loaded).
//   bun bench/cold-start-child.ts resources PORT [LIBRARY]   (LIBRARY: a build's index.js) |   bun bench/cold-start-child.ts modules
//   bun bench/cold-start-child.ts files PORT LIBRARY FILE     (the same config from a file)
//   bun bench/cold-start-child.ts checked PORT LIBRARY FILE   (the same config from `dietmesh check --emit FILE`, read from FILE)
export {};
const start = performance.now();
const [mode, port, library = "../runtime/library/index.ts", checkedFile /* or, for files, the config file */] = (globalThis as any).Deno ? (globalThis as any).Deno.args : process.argv.slice(2);

/** heavy parts first, then what pulls them in, then the library: each row is what it adds */
const PARTS = [
  "node:net", "node:tls", "node:http2", "yaml", "zod", "re2js", "jose", "hono",
  "../runtime/platform/index.ts", "../runtime/exchange/web-request.ts", "../runtime/config/load-resources.ts", "../runtime/config/load.ts",
  "../runtime/routing/regex.ts", "../runtime/telemetry/observe.ts", "../runtime/cli/telemetry-setup.ts",
  "../runtime/security/policy/index.ts", "../runtime/router/default-deps.ts", "../runtime/filters/chains.ts",
  "../runtime/model/compile.ts", "../runtime/discovery/config-watch.ts", "../runtime/admin/admin.ts",
  "../runtime/cli/sidecar.ts", "../runtime/cli/proxy-core.ts", "../runtime/library/index.ts",
];

if (mode === "modules") {
  const rows: Record<string, number> = {};
  let t = performance.now();
  for (const part of PARTS) {
    await import(part);
    const now = performance.now();
    rows[part.replace("../runtime/", "")] = now - t;
    t = now;
  }
  console.log(JSON.stringify({ boot: start, rows }));
} else {
  const { createMesh } = (await import(library)) as typeof import("../runtime/library/index.ts");
  const imported = performance.now();
  const serviceEntry = {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "svc", namespace: "default" },
    spec: { hosts: ["svc.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 8080, name: "http", protocol: "HTTP" }], endpoints: [{ address: "127.0.0.1", ports: { http: Number(port) } }] },
  };
  const route = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc"], http: [{ retries: { attempts: 2 }, route: [{ destination: { host: "svc" } }] }] } };
  let where: { resources: unknown[] } | { config: string[] };
  if (mode === "checked") {
    // as docs/library.md has a function take it: a JSON import (a bundler inlines it), not the
    // sources' platform adapter, whose import would be counted in the total
    where = { resources: [(await import(checkedFile, { with: { type: "json" } })).default] };
  } else if (mode === "files") {
    where = { config: [checkedFile] }; // the same config as a file, written once by bench/cold-start.ts
  } else where = { resources: [serviceEntry, route] };
  const beforeCreate = performance.now();
  const mesh = await createMesh({ ...where, labels: { app: "bench" }, log: () => {} });
  const created = performance.now();
  const response = await mesh.fetch("http://svc:8080/");
  await response.text();
  const first = performance.now();
  await mesh.close();
  if (response.status !== 200) throw new Error(`first mesh.fetch answered ${response.status}`);
  console.log(JSON.stringify({ boot: start, import: imported - start, createMesh: created - beforeCreate, firstFetch: first - created, total: first - start }));
}
