// A process that creates a mesh with an identity (a CA folder) and a refused first config, prints
// what it caught and does nothing else: test/library/resources.test.ts checks it ends by itself.
//   <runtime> refused-start.ts CA_DIR
import { createMesh, MeshConfigError } from "../../runtime/library/index.ts";
import { platform } from "../../runtime/platform/index.ts";

try {
  await createMesh({ resources: [{ apiVersion: "networking.istio.io/v1", kind: "VirtualService" }], caDir: platform.args()[0], log: () => {} });
  console.log("created");
} catch (e) {
  console.log(e instanceof MeshConfigError ? `refused ${e.errors[0].file} ${e.errors[0].path}` : `other ${e}`);
}
