// What `npm pack` ships (package.json "files"): the CLI and everything it imports, the demo and the
// docs — and no tests, bench or build output. Every relative import of a packed module resolves to
// a packed file, so an installed package is complete.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runCommand } from "../../runtime/platform/process.ts";
import { platform } from "../../runtime/platform/index.ts";
import { root } from "../support/mesh.ts";

let files: Set<string>;

test.before(async () => {
  const child = runCommand("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root });
  assert.is(await child.exited, 0, child.lines.join("\n"));
  const json = child.lines.slice(child.lines.findIndex((l) => l.trimStart().startsWith("["))).join("\n");
  files = new Set(JSON.parse(json)[0].files.map((f: { path: string }) => f.path));
});

test("the CLI, its wrapper and the package metadata are in; tests, bench and dist (but the library's build) are not", () => {
  for (const path of ["package.json", "README.md", "bin/dietmesh.js", "runtime/cli/main.ts", "runtime/platform/bun.ts", "runtime/platform/deno.ts", "scripts/image.mjs"]) assert.ok(files.has(path), path);
  // dist/lib/ and dist/bun/ (the library's builds for Deno and for Bun, made by prepack) are the parts of dist/ shipped
  const stray = [...files].filter((p) => (/^(test|bench|dist|node_modules)\//.test(p) && !/^dist\/(lib|bun)\//.test(p)) || p.endsWith(".test.ts"));
  assert.equal(stray, []);
});

test("every relative import of a packed TypeScript module resolves to a packed file", async () => {
  const missing: string[] = [];
  for (const path of files) {
    if (!path.endsWith(".ts")) continue;
    const text = await platform.readTextFile(`${root}${path}`);
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = new URL(m[1], `file:///${path}`).pathname.slice(1);
      if (!files.has(target)) missing.push(`${path} → ${m[1]}`);
    }
  }
  assert.equal(missing, []);
});

test.run();
