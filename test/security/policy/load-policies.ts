// Test helper: Istio YAML → a loaded MeshConfig, through the real loader, failing loudly on any error.
import { loadConfig } from "../../../runtime/config/load.ts";
import { formatConfigError } from "../../../runtime/config/errors.ts";
import type { MeshConfig } from "../../../runtime/config/types.ts";
import { memoryIO } from "../../config/memory-io.ts";

export async function loadPolicies(...docs: string[]): Promise<MeshConfig> {
  const { config, errors } = await loadConfig(["p.yaml"], { defaultNamespace: "default", ...memoryIO({ "p.yaml": docs.join("---\n") }) });
  if (!config) throw new Error(`the test's YAML does not load:\n${errors.map(formatConfigError).join("\n")}`);
  return config;
}

/** an AuthorizationPolicy document; `spec` is YAML indented two spaces */
export function authz(name: string, spec: string, { namespace = "default", annotations = "" } = {}): string {
  return `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${annotations ? `  annotations:\n${annotations}` : ""}spec:\n${spec}`;
}
