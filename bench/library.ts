// The mesh in process, measured (docs/performance.md, "The mesh in process"): cold start — import,
// createMesh with a small config and the first mesh.fetch — and the per-call cost of mesh.fetch over
// the runtime's plain fetch to the same upstream, sequential calls, in one run.
//   bun bench/library.ts [CALLS]    |    deno run -A bench/library.ts [CALLS]
export {};

const start = performance.now();
const { createMesh } = await import("../runtime/library/index.ts");
const imported = performance.now();
const { platform } = await import("../runtime/platform/index.ts");

const calls = Number(platform.args()[0] ?? 5000);
const upstream = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") });
const dir = await platform.makeTempDir("dietmesh-libbench-");
await platform.writeTextFile(`${dir}/svc.yaml`, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc, namespace: default }
spec:
  hosts: [svc.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${upstream.port} } }]
`);
const beforeCreate = performance.now();
const mesh = await createMesh({ config: [dir], labels: { app: "bench" }, log: () => {} });
const created = performance.now();
await (await mesh.fetch("http://svc:8080/")).text();
const first = performance.now();

async function timeCalls(call: () => Promise<Response>): Promise<number> {
  for (let i = 0; i < 500; i++) await (await call()).text(); // warm-up
  const t = performance.now();
  for (let i = 0; i < calls; i++) await (await call()).text();
  return ((performance.now() - t) * 1000) / calls;
}
const direct = `http://127.0.0.1:${upstream.port}/`;
const plain = await timeCalls(() => fetch(direct));
const meshed = await timeCalls(() => mesh.fetch("http://svc:8080/"));
await mesh.close();
await upstream.stop(true);
await platform.remove(dir);
const f = (n: number) => n.toFixed(1);
console.log(`${platform.name}: import ${f(imported - start)} ms, createMesh ${f(created - beforeCreate)} ms, first mesh.fetch ${f(first - created)} ms, import→first response ${f(first - start)} ms`);
console.log(`${platform.name}: ${calls} sequential calls: plain fetch ${f(plain)} µs, mesh.fetch ${f(meshed)} µs, overhead ${f(meshed - plain)} µs per call`);
