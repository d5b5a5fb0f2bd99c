// checkPaths: what `dietmesh check` prints and the exit code it returns.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkPaths, EXIT_DATA_ERROR, EXIT_ISSUES_FOUND, MESSAGE_CODES } from "../../runtime/config/check.ts";
import { platform } from "../../runtime/platform/index.ts";
import { memoryIO } from "./memory-io.ts";

// the seed's files as the repository carries them (demo/<folder>/istio/, identical to the seed)
const seed = (folder: string, name: string) => new URL(`../../demo/${folder}/istio/${name}`, import.meta.url).pathname;

async function check(paths: string[], io = platform as Parameters<typeof checkPaths>[1]) {
  const lines: string[] = [];
  const code = await checkPaths(paths, io, (l) => lines.push(l));
  return { code, lines };
}

test("a consistent set of showcase files: info lines only, then the all-clear", async () => {
  const names = ["hello-istio.yaml", "hello-istio-destination.yaml", "hello-istio-gateway.yaml", "hello-istio-25-75.yaml"];
  const { code, lines } = await check(names.map((n) => seed("hello-istio", n)));
  assert.is(code, 0);
  assert.is(lines.length, 3);
  assert.match(lines[0], /^Info \[skipped-kind\] Service /);
  assert.match(lines[1], /^Info \[skipped-kind\] Deployment /);
  assert.is(lines[2], "✔ No validation issues found");
});

test("a VirtualService alone: its missing Gateway, subset and host, errors first", async () => {
  const { code, lines } = await check([seed("hello-istio", "hello-istio-v2.yaml")]);
  assert.is(code, EXIT_ISSUES_FOUND, "istioctl analyze's exit code for issues found");
  assert.equal(lines.map((l) => l.split(" ").slice(0, 2).join(" ")), [
    "Error [unknown-gateway]", "Error [unknown-subset]", "Warning [unknown-host]", "Error: 2",
  ]);
  assert.is(lines.at(-1), "Error: 2 errors, 1 warning");
});

test("load errors stop before the cross-checks", async () => {
  const io = memoryIO({ "x.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: x\nspec:\n  hosts: [x]\n  htp: []\n" });
  const { code, lines } = await check(["x.yaml"], io);
  assert.is(code, EXIT_ISSUES_FOUND);
  assert.equal(lines, [
    'Error [schema] VirtualService default/x (x.yaml, document 1, line 7) spec.htp: unknown field "htp" (did you mean "http"?)',
    "Error: 1 error",
  ]);
});

test("warnings alone pass", async () => {
  const io = memoryIO({ "x.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: x\nspec:\n  hosts: [x]\n  http:\n  - route:\n    - destination:\n        host: x\n" });
  const { code, lines } = await check(["x.yaml"], io);
  assert.is(code, 0);
  assert.is(lines.at(-1), "Warning: 1 warning");
});


test("an Istio kind dietmesh does not build (EnvoyFilter): refused with DM0012, its file, resource and kind", async () => {
  const io = memoryIO({ "ef.yaml": "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: lua\n  namespace: istio-system\nspec:\n  configPatches: []\n" });
  const lines: string[] = [];
  const code = await checkPaths(["ef.yaml"], io as Parameters<typeof checkPaths>[1], (l) => lines.push(l), { output: "json" });
  assert.is(code, EXIT_ISSUES_FOUND);
  const [message] = JSON.parse(lines.join("\n"));
  assert.equal({ ...message, message: undefined }, { code: "DM0012", name: "unbuilt-kind", level: "Error", origin: "EnvoyFilter istio-system/lua", file: "ef.yaml", document: 1, line: 2, path: "kind", message: undefined });
  assert.match(message.message, /EnvoyFilter is an Istio kind dietmesh does not build/);
});

test("-o json: every problem with its stable code, level, origin, file, document and path; the same exit code", async () => {
  const lines: string[] = [];
  const code = await checkPaths([seed("hello-istio", "hello-istio-v2.yaml")], platform as Parameters<typeof checkPaths>[1], (l) => lines.push(l), { output: "json" });
  assert.is(code, EXIT_ISSUES_FOUND);
  const messages = JSON.parse(lines.join("\n"));
  assert.equal(messages.map((m: { code: string; level: string }) => `${m.code} ${m.level}`), [`${MESSAGE_CODES["unknown-gateway"]} Error`, `${MESSAGE_CODES["unknown-subset"]} Error`, `${MESSAGE_CODES["unknown-host"]} Warning`]);
  assert.is(messages[0].origin, "VirtualService default/hello-istio");
  assert.ok(messages[0].file.endsWith("hello-istio-v2.yaml") && messages[0].document === 1 && messages[0].path === "spec.gateways[0]", JSON.stringify(messages[0]));
});

test("--failure-threshold: warnings alone pass by default and fail at Warning; unparsable YAML is 65", async () => {
  const io = memoryIO({ "w.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: w\nspec:\n  hosts: [w]\n  http:\n  - route: [{ destination: { host: nowhere.example } }]\n" });
  const run = (threshold?: "Warning") => checkPaths(["w.yaml"], io, () => {}, { failureThreshold: threshold });
  assert.is(await run(), 0);
  assert.is(await run("Warning"), EXIT_ISSUES_FOUND);
  const broken = memoryIO({ "b.yaml": "kind: [unclosed\n" });
  assert.is(await checkPaths(["b.yaml"], broken, () => {}), EXIT_DATA_ERROR);
});

test("every kind of problem has its own message code", () => {
  const codes = Object.values(MESSAGE_CODES);
  assert.is(new Set(codes).size, codes.length);
  for (const code of codes) assert.match(code, /^DM\d{4}$/);
});

test.run();
