// What --help prints: a list flag says "(repeatable)" once (the renderer says it, never the flag's
// own help), an empty default prints no "(default )", and the texts that were wrong say what the
// commands do — check's exit codes (79, 65), ca --ttl for serve, what each --log-level shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { helpText, type CommandSpec } from "../../runtime/cli/args.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { root } from "../support/mesh.ts";

async function help(args: string[]): Promise<string> {
  const child = runScript(`${root}runtime/cli/main.ts`, args);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  return child.lines.join("\n");
}

const row = (text: string, flag: string) => text.split("\n").find((l) => l.startsWith(`  ${flag} `)) ?? "";

test("helpText: a list flag is repeatable once, after its default; an empty default prints nothing", () => {
  const spec: CommandSpec = {
    name: "x",
    summary: "",
    usage: "",
    flags: [
      { name: "many", kind: "list", value: "V", help: "values" },
      { name: "listed", kind: "list", value: "V", default: "a", help: "values with a default" },
      { name: "empty", kind: "string", value: "V", default: "", help: "none by default" },
      { name: "set", kind: "string", value: "V", default: "b", help: "one value" },
    ],
  };
  const text = helpText(spec);
  assert.ok(row(text, "--many").endsWith("values (repeatable)"), text);
  assert.ok(row(text, "--listed").endsWith("values with a default (default a) (repeatable)"), text);
  assert.ok(row(text, "--empty").endsWith("none by default"), text);
  assert.ok(row(text, "--set").endsWith("one value (default b)"), text);
});

test("no command's --help says (repeatable) twice or prints an empty default", async () => {
  for (const command of ["sidecar", "gateway", "ca", "proxy-status", "proxy-config", "check", "inject", "demo", "wait"]) {
    const text = await help([command, "--help"]);
    assert.not.match(text, /\(repeatable[^)]*\).*\(repeatable\)/, `${command}: ${text}`);
    assert.not.match(text, /\(default \)/, `${command}: ${text}`);
  }
  assert.ok(row(await help(["ca", "--help"]), "--server-name").endsWith("(repeatable)"));
  assert.ok(row(await help(["proxy-status", "--help"]), "--admin").endsWith("a proxy's admin listener (repeatable)"));
  assert.ok(row(await help(["sidecar", "--help"]), "--labels").endsWith("(for sourceLabels matches)"));
});

test("check's summary gives its exit codes: 79 on errors, 65 for a file it cannot read or parse", async () => {
  const line = (await help(["--help"])).split("\n").find((l) => l.startsWith("  check "))!;
  assert.match(line, /79/);
  assert.match(line, /65/);
  assert.not.match(line, /exit 1/);
});

test("ca --ttl says it applies to serve (the default life, and --max-ttl's default)", async () => {
  const ttl = row(await help(["ca", "--help"]), "--ttl DURATION");
  assert.match(ttl, /issue: /);
  assert.match(ttl, /serve: .*--max-ttl/);
  assert.match(ttl, /token: /);
});

test("--log-level says what each level shows", async () => {
  const level = row(await help(["sidecar", "--help"]), "--log-level LEVEL");
  for (const l of ["error:", "warn:", "info:", "debug:"]) assert.ok(level.includes(l), level);
});

test.run();
