// A process whose mesh has an admin listener and nothing else: it prints the address and ends when
// POST /quitquitquit closes the mesh. test/library/admin.test.ts holds a dashboard open on it
// meanwhile, and checks the process ends by itself all the same.
//   <runtime> admin-exit.ts
import { createMesh } from "../../runtime/library/index.ts";

const mesh = await createMesh({ resources: [], labels: { app: "web", version: "v1" }, log: () => {} });
const admin = await mesh.listenAdmin({ address: "127.0.0.1:0" });
console.log(`admin ${admin.hostname}:${admin.port}`);
