// The spelling service with the mesh in process instead of a sidecar (`dietmesh demo --library
// spelling`; docs/library.md): the same handler as spelling.ts, its calls to alphabet-service and
// a-, b-, c-service made with mesh.fetch (routing, retries, mTLS with its own SPIFFE identity), its
// inbound side on mesh.listen (mTLS from the same CA, the mesh's policies), and the sidecar's admin
// listener on mesh.listenAdmin, which the demo's gateway reads for its dashboard and `demo switch`
// for the config version. One process, no sidecar.
// Usage: spelling-library.ts --config DIR --ca-dir DIR [--inbound 127.0.0.1:0] [--admin 127.0.0.1:0] [--timeout-ms 2000]
import { createMesh } from "../../runtime/library/index.ts";
import { flag, spellingHandler } from "./spelling-app.ts";

const mesh = await createMesh({
  config: [flag("config", "")],
  caDir: flag("ca-dir", ""),
  namespace: "default",
  serviceAccount: "spelling-service",
  labels: { app: "spelling-service", version: "v1" },
  log: (message) => console.error(`${new Date().toISOString()} dietmesh library: ${message}`),
});
const handler = spellingHandler((url, init) => mesh.fetch(url, init));
const server = await mesh.listen({ address: flag("inbound", "127.0.0.1:0"), app: (request) => handler(request) });
const admin = await mesh.listenAdmin({ address: flag("admin", "127.0.0.1:0") });
// the demo reads the addresses from this line, as from a sidecar's
console.log(`spelling-service (mesh in process) ready: inbound ${server.hostname}:${server.port} admin ${admin.hostname}:${admin.port}`);
