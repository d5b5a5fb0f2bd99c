// A config checked ahead (config/checked.ts, `dietmesh check --emit`): what the library assembles
// from the sealed file is the config the files themselves give — for every YAML file of the demos,
// each folder loaded as a sidecar would load it — and a sealed file changed afterwards, or made by
// another version, is refused with a reason.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig, loadPerFile } from "../../runtime/config/load.ts";
import { assembleConfig, deepFreeze } from "../../runtime/config/assemble.ts";
import { openChecked, sealChecked } from "../../runtime/config/checked.ts";
import { platform } from "../../runtime/platform/index.ts";
import { root } from "../support/mesh.ts";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory, defaultNamespace: "default" };
/** every YAML file under dir, recursively */
async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await platform.readDir(dir)) {
    const path = `${dir}/${name}`;
    if (await platform.isDirectory(path)) out.push(...(await yamlFiles(path)));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out.sort();
}

/** loaded from the files, and assembled from their sealed entries after a trip through JSON text */
async function bothWays(paths: string[]) {
  const direct = await loadConfig(paths, io);
  const { perFile } = await loadPerFile(paths, io);
  const sealed = JSON.parse(JSON.stringify(await sealChecked(perFile, "1.2.3")));
  const opened = await openChecked(sealed, "1.2.3");
  if ("problem" in opened) throw new Error(opened.problem);
  return { direct, fromChecked: deepFreeze(assembleConfig({ errors: [], notices: [] }, opened.files)) };
}

// JSON has no undefined: a field the loader set to undefined comes back absent (a skipped
// resource's missing name), which the config's readers treat alike — they read values, never ask
// whether a key is there. Everything else must come back exactly.
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

test("every demo YAML file, alone: the sealed config assembles to what the file loads to", async () => {
  const files = await yamlFiles(`${root}demo`);
  assert.ok(files.length > 50, `${files.length} files`);
  let configs = 0;
  for (const file of files) {
    const { direct, fromChecked } = await bothWays([file]);
    assert.equal(fromChecked, asJson(direct), file);
    if (direct.config) configs++;
  }
  assert.ok(configs > 50, `${configs} of the files load to a config`);
});

test("whole demo folders (the sidecar's config sets): the same both ways", async () => {
  for (const folder of ["demo/alphabet/dietmesh", "demo/security", "demo/consul/istio"]) {
    const { direct, fromChecked } = await bothWays([`${root}${folder}`]);
    assert.ok(direct.config, folder);
    assert.equal(fromChecked, asJson(direct), folder);
  }
});

test("changed after sealing, or made by another version: refused, with what to do", async () => {
  const { perFile } = await loadPerFile([`${root}demo/alphabet/istio`], io);
  const sealed = JSON.parse(JSON.stringify(await sealChecked(perFile, "1.2.3")));
  const other = await openChecked(sealed, "1.2.4");
  assert.ok("problem" in other && /made by dietmesh "1\.2\.3".*dietmesh 1\.2\.4/.test(other.problem), JSON.stringify(other));
  const edited = structuredClone(sealed);
  const entry = edited.files.flat().find((e: { resource?: { kind: string } }) => e.resource?.kind === "VirtualService");
  entry.resource.spec.http[0].timeout = "9s";
  const changed = await openChecked(edited, "1.2.3");
  assert.ok("problem" in changed && /changed after/.test(changed.problem), JSON.stringify(changed));
  const torn = await openChecked({ ...sealed, files: "nope" }, "1.2.3");
  assert.ok("problem" in torn && /needs files/.test(torn.problem), JSON.stringify(torn));
});

test.run();
