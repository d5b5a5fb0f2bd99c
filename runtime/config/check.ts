// The core of `dietmesh check`: load, cross-check and print every problem one per line, then a
// summary, like istioctl analyze. Exit code 1 when there is an error, else 0 (warnings pass).
import { loadConfig, type ConfigIO } from "./load.ts";
import { analyzeConfig } from "./analyze.ts";
import { bySeverity, formatConfigError, type ConfigError } from "./errors.ts";
import { DEFAULT_DOMAIN_SUFFIX } from "../model/hosts.ts";

export interface CheckIO extends ConfigIO {
  /** namespace for resources without one; "default" as with kubectl */
  defaultNamespace?: string;
  recursive?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export async function checkPaths(paths: string[], io: CheckIO, out: (line: string) => void): Promise<number> {
  const loaded = await loadConfig(paths, { ...io, defaultNamespace: io.defaultNamespace ?? "default" });
  const problems: ConfigError[] = [...loaded.errors, ...loaded.notices];
  if (loaded.config) {
    // no registry here: the hosts known are the ServiceEntries' (analyze adds them) and the
    // Kubernetes Services that sit in the same files, as a cluster would have them
    const services = loaded.skipped
      .filter((r) => r.kind === "Service" && r.apiVersion === "v1" && r.name)
      .map((r) => `${r.name}.${r.namespace}.svc.${DEFAULT_DOMAIN_SUFFIX}`);
    problems.push(...analyzeConfig(loaded.config, { knownHosts: services }));
  }
  problems.sort(bySeverity);
  for (const p of problems) out(formatConfigError(p));

  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.filter((p) => p.severity === "warning").length;
  if (errors) out(`Error: ${plural(errors, "error")}${warnings ? `, ${plural(warnings, "warning")}` : ""}`);
  else if (warnings) out(`Warning: ${plural(warnings, "warning")}`);
  else out("✔ No validation issues found");
  return errors ? 1 : 0;
}
