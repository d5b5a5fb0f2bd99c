// What a config watch listens to (issue 15 item 9) and when two reads of the config are the same.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { configSnapshot, readConfigFiles, readFromFiles, sameFiles, watchTargets } from "../../runtime/config/files.ts";
import { memoryIO } from "./memory-io.ts";

const io = memoryIO({ "mesh/a.yaml": "a", "mesh/b.json": "{}", "solo/gateway.yaml": "g", "solo/other.yaml": "o" });

test("a folder: its own config files and Kubernetes' ..data swap; not logs, not dot-files", async () => {
  const [target, ...rest] = await watchTargets(["mesh"], io);
  assert.is(rest.length, 0);
  assert.is(target.dir, "mesh");
  for (const name of ["a.yaml", "new.yml", "b.json", "C.YAML", "..data"]) assert.ok(target.accepts(name), name);
  for (const name of ["gateway.log", ".a.yaml.swp", ".hidden.yaml", "a.yaml.1234.tmp", "a.yaml~", "notes.txt"]) assert.not.ok(target.accepts(name), name);
});

test("a file: only that file (and ..data), however its folder is written to", async () => {
  const targets = await watchTargets(["solo/gateway.yaml", "/etc/mesh/x.yml", "top.yaml"], io);
  assert.equal(targets.map((t) => t.dir), ["solo", "/etc/mesh", "."]);
  const [solo] = targets;
  assert.ok(solo.accepts("gateway.yaml"));
  assert.ok(solo.accepts("..data"));
  for (const name of ["other.yaml", "gateway.log", "gateway.yaml.99.tmp"]) assert.not.ok(solo.accepts(name), name);
});

test("two paths in one folder share one watch that accepts either", async () => {
  const targets = await watchTargets(["solo/gateway.yaml", "solo/other.yaml"], io);
  assert.is(targets.length, 1);
  assert.ok(targets[0].accepts("gateway.yaml") && targets[0].accepts("other.yaml"));
  assert.not.ok(targets[0].accepts("third.yaml"));
});

test("snapshots: equal for the same bytes, different for an edit, a new file or a missing one", async () => {
  const files: Record<string, string> = { "m/a.yaml": "a", "m/log.txt": "1" };
  const fs = memoryIO(files);
  const first = await configSnapshot(["m"], fs);
  files["m/log.txt"] = "2";
  assert.is(await configSnapshot(["m"], fs), first, "a file that is not config changed the snapshot");
  files["m/a.yaml"] = "a2";
  const edited = await configSnapshot(["m"], fs);
  assert.is.not(edited, first);
  files["m/b.yaml"] = "";
  assert.is.not(await configSnapshot(["m"], fs), edited, "a new empty file is a change");
  assert.is.not(await configSnapshot(["m/gone.yaml"], fs), await configSnapshot(["m/a.yaml"], fs));
});

test("reads kept as texts: the same for the same bytes, different for an edit, a new file, a missing one; loads answer from them", async () => {
  const files: Record<string, string> = { "m/a.yaml": "a", "m/log.txt": "1" };
  const fs = memoryIO(files);
  const first = await readConfigFiles(["m"], fs);
  files["m/log.txt"] = "2";
  assert.ok(sameFiles(await readConfigFiles(["m"], fs), first), "a file that is not config changed the read");
  files["m/a.yaml"] = "a2";
  const edited = await readConfigFiles(["m"], fs);
  assert.not.ok(sameFiles(edited, first));
  files["m/b.yaml"] = "";
  assert.not.ok(sameFiles(await readConfigFiles(["m"], fs), edited), "a new empty file is a change");
  assert.not.ok(sameFiles(await readConfigFiles(["m/gone.yaml"], fs), await readConfigFiles(["m/a.yaml"], fs)));
  assert.ok(sameFiles(await readConfigFiles(["m/gone.yaml"], fs), await readConfigFiles(["m/gone.yaml"], fs)), "the same missing file twice");

  files["m/a.yaml"] = "a3"; // written after the read: a load through the read still sees what was read
  const through = readFromFiles(edited, fs);
  assert.is(await through.readTextFile("m/a.yaml"), "a2");
  assert.is(await through.readTextFile("m/b.yaml"), "", "a file the read did not have comes from the disk");
  const missing = readFromFiles(await readConfigFiles(["m/gone.yaml"], fs), fs);
  await missing.readTextFile("m/gone.yaml").then(() => assert.unreachable("a failed read fails again"), (e: Error) => assert.match(e.message, /ENOENT/));
});

test.run();
