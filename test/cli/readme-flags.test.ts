// The README documents every command and every flag (the project's rule for its README): the CLI's
// own `dietmesh --help` lists the commands, each `dietmesh COMMAND --help` its flags, and each must
// be in README.md. A command or flag added without its line in the README fails here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { root } from "../support/mesh.ts";

/** what the CLI prints for args (it exits 0 for --help) */
async function help(args: string[]): Promise<string> {
  const child = runScript(`${root}runtime/cli/main.ts`, args);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  return child.lines.join("\n");
}

test("every command `dietmesh --help` lists, and every flag its --help lists, is in README.md", async () => {
  const readme = await platform.readTextFile(`${root}README.md`);
  const commands = [...(await help(["--help"])).matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]);
  assert.ok(commands.includes("sidecar") && commands.includes("gateway") && commands.length >= 9, commands.join(" "));
  const missing: string[] = [];
  let flags = 0;
  for (const command of commands) {
    if (!readme.includes(`dietmesh ${command}`)) missing.push(`command ${command}`);
    for (const [, flag] of (await help([command, "--help"])).matchAll(/^ {2}(--[a-z][a-z0-9-]*)/gm)) {
      if (flag === "--help") continue;
      flags++;
      if (!readme.includes(flag)) missing.push(`${command} ${flag}`);
    }
  }
  assert.equal(missing, []);
  assert.ok(flags > 50, `${flags} flags read`);
});

test.run();
