// dietmesh's version, from package.json (bundled into the single executable by `npm run build`).
import pkg from "../../package.json" with { type: "json" };
import { platform } from "../platform/index.ts";

export const VERSION: string = pkg.version;

/** "dietmesh 0.1.0 (bun 1.4.5)" */
export function versionLine(): string {
  return `dietmesh ${VERSION} (${platform.name} ${platform.runtimeVersion})`;
}
