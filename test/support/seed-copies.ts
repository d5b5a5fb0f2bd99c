// Shared check for the demo's copies of the seed's YAML: same file names, byte-for-byte the same
// text. Where shared/upstream-showcases is not beside the clone, only the count is checked.
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";

export const showcaseRoot = new URL("../../../shared/upstream-showcases", import.meta.url).pathname;

export async function assertSeedCopies(copy: string, original: string, minFiles: number): Promise<boolean> {
  const names = (await platform.readDir(copy)).filter((n) => n.endsWith(".yaml"));
  assert.ok(names.length >= minFiles, `only ${names.length} files`);
  if (!(await platform.isDirectory(original))) {
    console.log("(shared/upstream-showcases not beside this clone; compared file count only)");
    return false;
  }
  assert.equal(names, (await platform.readDir(original)).filter((n) => n.endsWith(".yaml")));
  for (const name of names) {
    assert.is(await platform.readTextFile(`${copy}/${name}`), await platform.readTextFile(`${original}/${name}`), name);
  }
  return true;
}
