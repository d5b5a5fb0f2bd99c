// Issue 16 cold start: a mesh made from objects (`resources`) with no RequestAuthentication and no
// regex match must not load the packages it does not use — a regression here costs tens of ms of
// every serverless cold start (docs/performance.md "Cold start, part by part"). Each check runs in
// a fresh process (test/library/lazy-imports-child.ts): on Bun the child reports the packages in
// the module registry; on Deno, which has none, an import map points each package at a module that
// throws when loaded, so loading one fails the child.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";

const here = new URL("./", import.meta.url).pathname;
const bin = (name: string) => new URL(`../../node_modules/.bin/${name}`, import.meta.url).pathname;
/** what objects with no file, no RequestAuthentication and no regex must not load */
const LAZY = ["yaml"];
const upstream = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") });

async function child(): Promise<{ status: number; body: string; packages: string[] | null }> {
  let run;
  if (platform.name === "bun") run = runCommand(bin("bun"), [`${here}lazy-imports-child.ts`, String(upstream.port)]);
  else {
    const dir = await platform.makeTempDir("dietmesh-lazy-");
    await platform.writeTextFile(`${dir}/poison.js`, 'throw new Error("a package that should load lazily was loaded");\n');
    await platform.writeTextFile(`${dir}/map.json`, JSON.stringify({ imports: Object.fromEntries(LAZY.map((p) => [p, `${dir}/poison.js`])) }));
    run = runCommand(bin("deno"), ["run", "-A", "--quiet", `--import-map=${dir}/map.json`, `${here}lazy-imports-child.ts`, String(upstream.port)]);
  }
  const code = await run.exited;
  const line = run.lines.find((l) => l.startsWith("{"));
  assert.is(code, 0, run.lines.join("\n"));
  assert.ok(line, run.lines.join("\n"));
  return JSON.parse(line!);
}

test("a mesh from objects with no RequestAuthentication and no regex loads no YAML parser", async () => {
  const result = await child();
  assert.is(result.status, 200);
  assert.is(result.body, "ok");
  if (platform.name === "bun") {
    assert.ok(result.packages!.includes("zod"), `the registry listing looks wrong: ${result.packages}`);
    for (const p of LAZY) assert.not.ok(result.packages!.includes(p), `${p} was loaded: ${result.packages}`);
  }
});

test.after(() => upstream.stop(true));
test.run();
