// The demo ships the seed's hello-istio YAML; it must stay byte-for-byte the original.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";

const root = new URL("../../", import.meta.url).pathname;
const original = new URL("../../../shared/upstream-showcases/hello-istio", import.meta.url).pathname;
const copy = `${root}demo/hello-istio/istio`;

test("demo/hello-istio/istio holds the seed's files unmodified", async () => {
  const names = (await platform.readDir(copy)).filter((n) => n.endsWith(".yaml"));
  assert.ok(names.length >= 12, `only ${names.length} files`);
  if (!(await platform.isDirectory(original))) {
    console.log("(shared/upstream-showcases not beside this clone; compared file count only)");
    return;
  }
  assert.equal(names, (await platform.readDir(original)).filter((n) => n.endsWith(".yaml")));
  for (const name of names) {
    assert.is(await platform.readTextFile(`${copy}/${name}`), await platform.readTextFile(`${original}/${name}`), name);
  }
});

test.run();
