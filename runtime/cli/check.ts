// `dietmesh check PATH...`: validates Istio YAML the way `istioctl analyze` reports it, and exits
// non-zero when anything is wrong.
import { platform } from "../platform/index.ts";
import { checkPaths } from "../config/check.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";

export const checkSpec: CommandSpec = {
  name: "check",
  summary: "Validate Istio YAML files and directories; exit 1 on errors.",
  usage: "dietmesh check [--namespace NS] PATH...",
  flags: [{ name: "namespace", kind: "string", value: "NS", default: "default", help: "namespace of resources that name none" }],
};

export async function runCheckCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(checkSpec, argv);
  if (!flags.positionals.length) throw new UsageError("name at least one file or directory");
  const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory, defaultNamespace: flags.strings.namespace ?? "default" };
  return checkPaths(flags.positionals, io, (line) => console.log(line));
}
