// `dietmesh check PATH...`: validates Istio YAML the way `istioctl analyze` reports it, and exits
// istioctl's codes when anything is wrong (79 issues found, 65 unreadable input).
import { platform } from "../platform/index.ts";
import { checkPaths, type OutputFormat, type Threshold } from "../config/check.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";
import { VERSION } from "./version.ts";

export const checkSpec: CommandSpec = {
  name: "check",
  summary: "Validate Istio YAML files and directories; exit 79 on errors, 65 when a file cannot be read or parsed.",
  usage: "dietmesh check [--namespace NS] [-o log|json|yaml] [--failure-threshold LEVEL] [--emit FILE] PATH...",
  flags: [
    { name: "namespace", kind: "string", value: "NS", default: "default", help: "namespace of resources that name none" },
    { name: "output", short: "o", kind: "string", value: "FORMAT", default: "log", help: "log (one line per problem), json or yaml (every problem with its stable code DMnnnn, level, origin, file, line and field path)" },
    { name: "emit", kind: "string", value: "FILE", help: "when no problem is an error, write the validated config there, sealed with this version, for the library's resources: createMesh({ resources: [checked] }) starts without the schemas (docs/library.md)" },
    { name: "failure-threshold", kind: "string", value: "LEVEL", default: "Error", help: "the lowest level that makes the exit code 79: Info, Warning or Error (as istioctl analyze); 65 when a file cannot be read or parsed" },
  ],
};

export async function runCheckCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(checkSpec, argv);
  if (!flags.positionals.length) throw new UsageError("name at least one file or directory");
  const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory, defaultNamespace: flags.strings.namespace ?? "default" };
  const output = flags.strings.output ?? "log";
  if (!["log", "json", "yaml"].includes(output)) throw new UsageError(`--output: expected log, json or yaml, got "${output}"`);
  const threshold = flags.strings["failure-threshold"] ?? "Error";
  if (!["Info", "Warning", "Error"].includes(threshold)) throw new UsageError(`--failure-threshold: expected Info, Warning or Error, got "${threshold}"`);
  const emitTo = flags.strings.emit;
  const emit = emitTo ? { version: VERSION, write: (checked: unknown) => platform.writeTextFile(emitTo, `${JSON.stringify(checked)}\n`) } : undefined;
  return checkPaths(flags.positionals, io, (line) => console.log(line), { output: output as OutputFormat, failureThreshold: threshold as Threshold, emit });
}
