// House rule: only runtime/platform/ may name Bun., Deno. or node: — the rest speaks Web standards.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";

const root = new URL("../../", import.meta.url).pathname;
const forbidden = /\b(?:Bun|Deno)\.[A-Za-z]|["']node:/;

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await platform.readDir(dir)) {
    const path = `${dir}/${name}`;
    if (await platform.isDirectory(path)) out.push(...(await tsFiles(path)));
    else if (name.endsWith(".ts")) out.push(path);
  }
  return out;
}

test("no file outside runtime/platform/ names Bun., Deno. or node:", async () => {
  const files = [...(await tsFiles(`${root}runtime`)), ...(await tsFiles(`${root}adapters`))];
  assert.ok(files.length > 20, `only ${files.length} files found`);
  const leaks: string[] = [];
  for (const file of files) {
    if (file.includes("/runtime/platform/")) continue;
    const text = await platform.readTextFile(file);
    text.split("\n").forEach((line, i) => {
      if (forbidden.test(line)) leaks.push(`${file.slice(root.length)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(leaks, []);
});

test("the rule's pattern catches what it should", () => {
  assert.ok(forbidden.test('import { x } from "node:fs";'));
  assert.ok(forbidden.test("Bun.serve({})"));
  assert.ok(forbidden.test("const a = Deno.env.get('X')"));
  assert.not.ok(forbidden.test("const bundle = 1; // Bunny"));
});

test.run();
