// The core of `dietmesh check`: load, cross-check and print every problem one per line, then a
// summary, like istioctl analyze — or all of it as JSON or YAML — and answer istioctl's exit code:
// 79 when an issue reaches the failure threshold (Error unless told otherwise), 65 when a file could
// not be read or parsed, else 0.
import { loadPerFile, type ConfigIO } from "./load.ts";
import { assembleConfig, deepFreeze } from "./assemble.ts";
import { sealChecked, type CheckedConfig } from "./checked.ts";
import { analyzeConfig } from "./analyze.ts";
import { bySeverity, formatConfigError, type ConfigError, type ConfigErrorCode } from "./errors.ts";
import { stringify } from "yaml";
import { DEFAULT_DOMAIN_SUFFIX } from "../model/hosts.ts";

export interface CheckIO extends ConfigIO {
  /** namespace for resources without one; "default" as with kubectl */
  defaultNamespace?: string;
  recursive?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Stable message codes, as istioctl analyze has IST0101 and the like: scripts match on them.
 * A Record over every ConfigErrorCode, so a new kind of problem cannot ship without its number.
 */
export const MESSAGE_CODES: Record<ConfigErrorCode, string> = {
  io: "DM0001",
  "yaml-syntax": "DM0002",
  schema: "DM0003",
  duplicate: "DM0004",
  "skipped-kind": "DM0005",
  "unvalidated-kind": "DM0006",
  "unsupported-field": "DM0007",
  "unknown-subset": "DM0008",
  "unknown-gateway": "DM0009",
  "unknown-host": "DM0010",
  "zero-weight": "DM0011",
  "unbuilt-kind": "DM0012",
};

/** istioctl analyze's exit codes (istioctl/pkg/cmd): issues at or above the threshold, unreadable input */
export const EXIT_ISSUES_FOUND = 79;
export const EXIT_DATA_ERROR = 65;

export type OutputFormat = "log" | "json" | "yaml";
export type Threshold = "Info" | "Warning" | "Error";

export interface CheckOptions {
  output?: OutputFormat;
  /** the lowest level that makes the exit code non-zero (istioctl's --failure-threshold; default Error) */
  failureThreshold?: Threshold;
  /** --emit: what validation produced, sealed (config/checked.ts), handed to write when no problem is an error */
  emit?: { version: string; write(checked: CheckedConfig): Promise<void> };
}

const LEVEL: Record<ConfigError["severity"], Threshold> = { error: "Error", warning: "Warning", info: "Info" };
const RANK: Record<Threshold, number> = { Info: 0, Warning: 1, Error: 2 };

/** one problem as -o json/yaml print it */
export function messageOf(p: ConfigError) {
  return {
    code: MESSAGE_CODES[p.code],
    name: p.code,
    level: LEVEL[p.severity],
    origin: p.kind ? `${p.kind}${p.name ? ` ${p.namespace ? `${p.namespace}/` : ""}${p.name}` : ""}` : undefined,
    file: p.file,
    document: p.document === undefined ? undefined : p.document + 1,
    line: p.line,
    path: p.path,
    message: p.message,
  };
}

export async function checkPaths(paths: string[], io: CheckIO, out: (line: string) => void, options: CheckOptions = {}): Promise<number> {
  const { collected, perFile } = await loadPerFile(paths, { ...io, defaultNamespace: io.defaultNamespace ?? "default" });
  const loaded = deepFreeze(assembleConfig(collected, perFile));
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
  const output = options.output ?? "log";
  if (output === "json") out(JSON.stringify(problems.map(messageOf), null, 2));
  else if (output === "yaml") out(stringify(problems.map(messageOf)).trimEnd());
  else {
    for (const p of problems) out(formatConfigError(p));
    const errors = problems.filter((p) => p.severity === "error").length;
    const warnings = problems.filter((p) => p.severity === "warning").length;
    if (errors) out(`Error: ${plural(errors, "error")}${warnings ? `, ${plural(warnings, "warning")}` : ""}`);
    else if (warnings) out(`Warning: ${plural(warnings, "warning")}`);
    else out("✔ No validation issues found");
  }
  const hasErrors = problems.some((p) => p.severity === "error");
  if (options.emit) {
    if (!hasErrors) await options.emit.write(await sealChecked(perFile, options.emit.version));
    else if (output === "log") out("Not written: a config with errors is not sealed for --emit");
  }
  if (problems.some((p) => p.severity === "error" && (p.code === "io" || p.code === "yaml-syntax"))) return EXIT_DATA_ERROR;
  const threshold = RANK[options.failureThreshold ?? "Error"];
  return problems.some((p) => RANK[LEVEL[p.severity]] >= threshold) ? EXIT_ISSUES_FOUND : 0;
}
