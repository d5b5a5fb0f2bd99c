// Issue 16 cold start (and issue 10's sidecar RSS): a mesh made from objects (`resources`) loads no
// YAML parser, and loads re2js and jose only for a config with a regex or a RequestAuthentication —
// a regression costs tens of ms of every serverless cold start (docs/performance.md "Cold start,
// part by part"). Each case runs in a fresh process (test/library/lazy-imports-child.ts): on Bun the
// child reports the packages in the module registry; on Deno, which has none, an import map points
// each package that must stay unloaded at a module that throws, so loading one fails the child.
// With a regex or a RequestAuthentication, the first request is served right, without a wait.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { must } from "../support/mesh.ts";

const here = new URL("./", import.meta.url).pathname;
const bin = (name: string) => new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;
const upstream = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") });

async function child(mode: string, unloaded: string[], extra: string[] = [], loadsZod = true): Promise<{ statuses: number[]; packages: string[] | null }> {
  const args = [`${here}lazy-imports-child.ts`, String(upstream.port), mode, ...extra];
  let run;
  if (platform.name === "bun") run = runCommand(bin("bun"), args);
  else {
    const dir = await platform.makeTempDir("dietmesh-lazy-");
    await platform.writeTextFile(`${dir}/poison.js`, 'throw new Error("a package that should load lazily was loaded");\n');
    await platform.writeTextFile(`${dir}/map.json`, JSON.stringify({ imports: Object.fromEntries(unloaded.map((p) => [p, `${dir}/poison.js`])) }));
    run = runCommand(bin("deno"), ["run", "-A", "--quiet", `--import-map=${dir}/map.json`, ...args]);
  }
  const code = await run.exited;
  const line = run.lines.find((l) => l.startsWith("{"));
  assert.is(code, 0, run.lines.join("\n"));
  assert.ok(line, run.lines.join("\n"));
  const result = JSON.parse(line!);
  if (platform.name === "bun") {
    if (loadsZod) assert.ok(result.packages.includes("zod"), `the registry listing looks wrong: ${result.packages}`);
    for (const p of unloaded) assert.not.ok(result.packages.includes(p), `${p} was loaded: ${result.packages}`);
  }
  return result;
}

test("objects with no RequestAuthentication and no regex load no yaml, jose or re2js", async () => {
  const { statuses } = await child("plain", ["yaml", "jose", "re2js"]);
  assert.equal(statuses, [200, 404]);
});

test("a regex route loads re2js (and routes by it on the first call), not jose or yaml", async () => {
  const { statuses, packages } = await child("regex", ["yaml", "jose"]);
  assert.equal(statuses, [200, 404]);
  if (packages) assert.ok(packages.includes("re2js"), `${packages}`);
});

test("a RequestAuthentication loads jose, and its first request is checked: a valid token 200, a forged one 401", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  const token = await new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer("https://idp.example").setAudience("web").setExpirationTime("10m").sign(privateKey);
  const { statuses, packages } = await child("jwt", ["yaml", "re2js"], [JSON.stringify({ keys: [jwk] }), token]);
  assert.equal(statuses, [200, 404, 200, 401]);
  if (packages) assert.ok(packages.includes("jose"), `${packages}`);
});

test("config files load in process by default (zod in this process), and in the config worker when asked (not on Deno)", async () => {
  // file loading brings re2js with the YAML parser (config/load.ts), whatever the config
  const inProcess = await child("files", ["jose"]);
  assert.equal(inProcess.statuses, [200, 404]);
  if (inProcess.packages) assert.ok(inProcess.packages.includes("zod"), `${inProcess.packages}`);
  if (platform.name !== "bun") return;
  const args = [`${here}lazy-imports-child.ts`, String(upstream.port), "files-worker"];
  const run = runCommand(bin("bun"), args);
  assert.is(await run.exited, 0, run.lines.join("\n"));
  const inWorker = JSON.parse(run.lines.find((l) => l.startsWith("{"))!);
  assert.equal(inWorker.statuses, [200, 404]);
  for (const p of ["zod", "yaml", "jose", "re2js"]) assert.not.ok(inWorker.packages.includes(p), `${p} in the serving process: ${inWorker.packages}`);
});

test("a config checked ahead (`dietmesh check --emit`) starts without zod, yaml, jose or re2js, and routes the same", async () => {
  const dir = await platform.makeTempDir("dietmesh-checked-");
  const se = { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 8080, name: "http", protocol: "HTTP" }], endpoints: [{ address: "127.0.0.1", ports: { http: upstream.port } }] } };
  const vs = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc"], http: [{ match: [{ uri: { prefix: "/x" } }], route: [{ destination: { host: "svc" } }] }] } };
  await platform.writeTextFile(`${dir}/mesh.json`, JSON.stringify({ apiVersion: "v1", kind: "List", items: [se, vs] }));
  const out = await must("dietmesh", ["check", "--emit", `${dir}/checked.json`, `${dir}/mesh.json`]);
  assert.match(out, /No validation issues found/);
  const { statuses, packages } = await child("checked", ["zod", "yaml", "jose", "re2js"], [`${dir}/checked.json`], false);
  assert.equal(statuses, [200, 404]);
  if (packages) assert.not.ok(packages.includes("zod"), `${packages}`);
  await platform.remove(dir);
});

test.after(() => upstream.stop(true));
test.run();
