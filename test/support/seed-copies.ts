// Shared check for the demo's copies of the seed's YAML: same file names, byte-for-byte the same
// text. The seed is optional: it is looked for in DIETMESH_SEED_DIR, else in the workspace folder
// "shared/upstream-showcases" next to the clone; where neither exists (a user's clone, CI) only the
// count is checked, and nothing else in the tests reads the seed (they use the demo/ copies).
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";

const workspace = new URL("../../..", import.meta.url).pathname;
export const showcaseRoot = platform.env("DIETMESH_SEED_DIR") ?? `${workspace}shared/upstream-showcases`;

export async function assertSeedCopies(copy: string, original: string, minFiles: number): Promise<boolean> {
  const names = (await platform.readDir(copy)).filter((n) => n.endsWith(".yaml"));
  assert.ok(names.length >= minFiles, `only ${names.length} files`);
  if (!(await platform.isDirectory(original))) {
    console.log(`(no seed at ${original}; compared file count only)`);
    return false;
  }
  assert.equal(names, (await platform.readDir(original)).filter((n) => n.endsWith(".yaml")));
  for (const name of names) {
    assert.is(await platform.readTextFile(`${copy}/${name}`), await platform.readTextFile(`${original}/${name}`), name);
  }
  return true;
}
