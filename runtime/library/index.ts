// dietmesh as a library: `import { createMesh } from "dietmesh"`. See docs/library.md.
export { createMesh, type Mesh, type MeshOptions, type AppHandler, type CallerInfo } from "./mesh.ts";
export { MeshConfigError } from "./resource-watch.ts";
export type { ConfigError } from "../config/errors.ts";
export { dietmeshMiddleware } from "./hono.ts";
