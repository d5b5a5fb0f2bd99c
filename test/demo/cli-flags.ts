// For the tests that keep deployment files honest: the flags a dietmesh command takes, read from
// its own --help (so the check follows the CLI), and a command line split into flags and values.
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { cli } from "../support/mesh.ts";

/** flag name → whether it takes a value, from `dietmesh <command...> --help` */
export async function commandFlags(...command: string[]): Promise<Map<string, boolean>> {
  const child = runScript(cli, [...command, "--help"]);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  const flags = new Map<string, boolean>();
  for (const line of child.lines) {
    const m = /^\s+--([a-z][a-z0-9-]*)(?: (\S+))?\s/.exec(line);
    if (m) flags.set(m[1], m[2] !== undefined);
  }
  assert.ok(flags.size > 0, `no flags found in:\n${child.lines.join("\n")}`);
  return flags;
}

/** checks args (what follows the command) against the command's flags; returns flag → values */
export function checkArgs(args: readonly string[], flags: Map<string, boolean>, what: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    assert.ok(arg.startsWith("--"), `${what}: "${arg}" is not a flag (args: ${args.join(" ")})`);
    const name = arg.slice(2);
    assert.ok(flags.has(name), `${what}: --${name} is not a flag of this command (it takes ${[...flags.keys()].map((f) => `--${f}`).join(", ")})`);
    const values = seen.get(name) ?? [];
    if (flags.get(name)) {
      const value = args[++i];
      assert.ok(value !== undefined && !value.startsWith("--"), `${what}: --${name} needs a value`);
      values.push(value);
    }
    seen.set(name, values);
  }
  return seen;
}
