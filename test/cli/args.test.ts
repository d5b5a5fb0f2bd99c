// The flag parser: argv over DIETMESH_<FLAG> over defaults, list and boolean flags from the
// environment, istioctl-style short flags, and the errors for bad values.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { envName, parseFlags, UsageError, type CommandSpec } from "../../runtime/cli/args.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, tempConfig } from "../support/mesh.ts";

const spec: CommandSpec = {
  name: "demo-cmd",
  summary: "",
  usage: "",
  flags: [
    { name: "access-log", kind: "string", default: "off", help: "" },
    { name: "config", kind: "list", help: "" },
    { name: "verbose", kind: "boolean", help: "" },
    { name: "output", short: "o", kind: "string", default: "log", help: "" },
  ],
};
const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

test("DIETMESH_<FLAG> names", () => {
  assert.is(envName("access-log"), "DIETMESH_ACCESS_LOG");
  assert.is(envName("max-request-headers-kb"), "DIETMESH_MAX_REQUEST_HEADERS_KB");
});

test("the command line wins over the environment, the environment over the default", () => {
  const env = envOf({ DIETMESH_ACCESS_LOG: "json", DIETMESH_CONFIG: "a.yaml, b/", DIETMESH_VERBOSE: "true" });
  const fromEnv = parseFlags(spec, [], env);
  assert.is(fromEnv.strings["access-log"], "json");
  assert.equal(fromEnv.lists.config, ["a.yaml", "b/"]);
  assert.is(fromEnv.booleans.verbose, true);
  const given = parseFlags(spec, ["--access-log", "text", "--config", "c.yaml", "--config", "d.yaml"], env);
  assert.is(given.strings["access-log"], "text");
  assert.equal(given.lists.config, ["c.yaml", "d.yaml"], "command-line list values replace the environment's");
  assert.is(parseFlags(spec, [], envOf({})).strings["access-log"], "off");
});

test("a boolean from the environment must say true/false/1/0", () => {
  assert.is(parseFlags(spec, [], envOf({ DIETMESH_VERBOSE: "0" })).booleans.verbose, false);
  assert.throws(() => parseFlags(spec, [], envOf({ DIETMESH_VERBOSE: "yes" })), (e: unknown) => e instanceof UsageError && /DIETMESH_VERBOSE/.test((e as Error).message));
});

test("short flags: -o json and -ojson", () => {
  assert.is(parseFlags(spec, ["-o", "json"], envOf({})).strings.output, "json");
  assert.is(parseFlags(spec, ["-oyaml"], envOf({})).strings.output, "yaml");
});

test("a real command reads DIETMESH_OUTPUT from its environment", async () => {
  const dir = await tempConfig({ "x.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: x }\nspec:\n  hosts: [x]\n  htp: []\n" });
  const child = runScript(cli, ["check", dir], { env: { DIETMESH_OUTPUT: "json" } });
  assert.is(await child.exited, 79);
  const messages = JSON.parse(child.lines.join("\n"));
  assert.is(messages[0].code, "DM0003");
});

test.run();
