// A user's script in a scratch project that depends on dietmesh (test/library/mesh.test.ts sets the
// project up and runs this on Bun or Deno). It only uses the package's public API.
//   <runtime> scratch-script.mjs CONFIG_DIR
//   <runtime> scratch-script.mjs --resources JSON   (the config as parsed objects: no file read)
//   <runtime> scratch-script.mjs --checked FILE     (`dietmesh check --emit FILE`, imported as JSON as docs/library.md shows)
import { createMesh, MeshConfigError } from "dietmesh";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const resources = args[0] === "--resources" ? JSON.parse(args[1]) : undefined;
const checked = args[0] === "--checked" ? (await import(args[1], { with: { type: "json" } })).default : undefined;
const where = resources ? { resources } : checked ? { resources: [checked] } : { config: [args[0]] };
const mesh = await createMesh({ ...where, namespace: "default", serviceAccount: "web", labels: { app: "web", version: "v1" } });

// 80/20 by the VirtualService's weights
const counts = {};
for (let i = 0; i < 300; i++) {
  const r = await mesh.fetch("http://reviews:8080/split");
  const name = (await r.json()).name;
  counts[name] = (counts[name] ?? 0) + 1;
}

// one of flaky's two endpoints refuses connections: Istio's default retries move to the other
let failed = 0;
for (let i = 0; i < 50; i++) {
  const r = await mesh.fetch("http://flaky:8080/retry");
  await r.arrayBuffer();
  if (r.status !== 200) failed++;
}

// the inbound side around an in-process app: an AuthorizationPolicy denies /admin
const handler = mesh.serve(async (request, caller) => new Response(`app saw ${new URL(request.url).pathname} from ${caller.remoteAddress}`));
const denied = await handler(new Request("http://web.default.svc.cluster.local/admin"));
const allowed = await handler(new Request("http://web.default.svc.cluster.local/hello"), { remoteAddress: "10.1.2.3" });

// with objects, a bad set is refused naming the object and field; the last good config serves on
let rejected;
if (resources) {
  const bad = structuredClone(resources);
  const vs = bad.findIndex((r) => r.kind === "VirtualService");
  bad[vs].spec.http[0].route[0].weight = "eighty";
  try {
    await mesh.reload(bad);
  } catch (e) {
    if (!(e instanceof MeshConfigError)) throw e;
    const r = await mesh.fetch("http://reviews:8080/after-rejection");
    rejected = { index: vs, file: e.errors[0].file, path: e.errors[0].path, statusAfter: r.status };
    await r.arrayBuffer();
  }
}

const metrics = await mesh.metrics();
console.log(JSON.stringify({
  resolved: import.meta.resolve("dietmesh"),
  counts,
  failed,
  rejected,
  denied: denied.status,
  allowed: allowed.status,
  allowedBody: await allowed.text(),
  sourceSeries: metrics.split("\n").filter((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="source"') && l.includes('destination_service="reviews.default.svc.cluster.local"')).length,
  destinationSeries: metrics.split("\n").filter((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="destination"') && l.includes('response_code="403"')).length,
}));
await mesh.close();
// nothing else: the process must end by itself once the mesh is closed
