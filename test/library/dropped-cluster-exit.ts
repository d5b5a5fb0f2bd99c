// A process that calls a service through a mesh, takes the service out of the config (its cluster
// is dropped: the pool is kept 30 s for requests still on it), closes the mesh and does nothing
// else: test/library/close.test.ts checks it ends by itself, long before those 30 s.
//   <runtime> dropped-cluster-exit.ts UPSTREAM_PORT
import { createMesh } from "../../runtime/library/index.ts";
import { platform } from "../../runtime/platform/index.ts";

const port = Number(platform.args()[0]);
const entry = {
  apiVersion: "networking.istio.io/v1",
  kind: "ServiceEntry",
  metadata: { name: "reviews", namespace: "default" },
  spec: {
    hosts: ["reviews.default.svc.cluster.local"],
    location: "MESH_INTERNAL",
    resolution: "STATIC",
    ports: [{ number: 8080, name: "http", protocol: "HTTP" }],
    endpoints: [{ address: "127.0.0.1", ports: { http: port } }],
  },
};
const mesh = await createMesh({ resources: [entry], log: () => {} });
const res = await mesh.fetch("http://reviews:8080/x");
await res.text();
console.log(`called ${res.status}`);
// the cluster (with its kept-alive connection) leaves the config
await mesh.reload([]);
console.log(`after reload ${(await mesh.fetch("http://reviews:8080/x")).status}`);
await mesh.close();
console.log("closed");
