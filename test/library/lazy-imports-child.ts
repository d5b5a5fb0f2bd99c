// A fresh process for test/library/lazy-imports.test.ts: creates a mesh from objects (`resources`),
// makes its first calls, and prints what they answered and which packages got loaded. Bun lists
// every loaded module, ES modules too, in its require.cache; Deno has no such registry, so there the
// test maps the packages that must stay unloaded to a module that throws (an import map).
//   <runtime> test/library/lazy-imports-child.ts PORT plain|regex|jwt|files|files-worker [JWKS TOKEN]
//   plain: a ServiceEntry and a prefix route; regex: a regex route; jwt: plus a RequestAuthentication
//   (inline JWKS) in front of mesh.serve, asked once with TOKEN and once with a forged one; files:
//   the plain config from a file, loaded in process (the default) or in the config worker;
//   checked FILE: the plain config as `dietmesh check --emit FILE` sealed it
import { createMesh } from "../../runtime/library/index.ts";
import { platform } from "../../runtime/platform/index.ts";

const args: string[] = (globalThis as any).Deno ? (globalThis as any).Deno.args : process.argv.slice(2);
const [port, mode, jwks, token] = args;
const checkedFile = jwks;
const match = mode === "regex" ? { uri: { regex: "/x[0-9]+" } } : { uri: { prefix: "/x" } };
const resources: unknown[] = [
  {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "svc", namespace: "default" },
    spec: { hosts: ["svc.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 8080, name: "http", protocol: "HTTP" }], endpoints: [{ address: "127.0.0.1", ports: { http: Number(port) } }] },
  },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc"], http: [{ match: [match], route: [{ destination: { host: "svc" } }] }] } },
];
if (mode === "jwt") {
  resources.push({
    apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace: "default" },
    spec: { selector: { matchLabels: { app: "lazy" } }, jwtRules: [{ issuer: "https://idp.example", jwks, audiences: ["web"] }] },
  });
}
let where: { resources: unknown[] } | { config: string[]; configWorker: boolean } = { resources };
if (mode === "checked") where = { resources: [JSON.parse(await platform.readTextFile(checkedFile))] };
if (mode.startsWith("files")) {
  const dir = await platform.makeTempDir("dietmesh-lazy-");
  await platform.writeTextFile(`${dir}/mesh.json`, JSON.stringify({ apiVersion: "v1", kind: "List", items: resources }));
  where = { config: [dir], configWorker: mode === "files-worker" };
}
const mesh = await createMesh({ ...where, labels: { app: "lazy" }, log: () => {} });
const statuses: number[] = [];
for (const path of ["/x1", "/y"]) {
  const response = await mesh.fetch(`http://svc:8080${path}`);
  await response.text();
  statuses.push(response.status);
}
if (mode === "jwt") {
  const handler = mesh.serve(() => new Response("app"));
  const [head, body] = token.split(".");
  for (const bearer of [token, `${head}.${body}.AAAA`]) {
    const response = await handler(new Request("http://web.local/", { headers: { authorization: `Bearer ${bearer}` } }));
    await response.text();
    statuses.push(response.status);
  }
}
await mesh.close();
const registry = (import.meta as any).require?.cache as Record<string, unknown> | undefined;
const packages = registry ? [...new Set(Object.keys(registry).map((path) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]).filter(Boolean))].sort() : null;
console.log(JSON.stringify({ statuses, packages }));
