// Which file a config read came from, on a real disk: a rename over the file and a Kubernetes
// ConfigMap volume's `..data` symlink swap are "replaced whole" (applied without a settle time);
// a write in place, a file added or removed, or nothing changed at all are not.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { appendFile, mkdir, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { platform } from "../../runtime/platform/index.ts";
import { LEFT_ALONE_MS, readConfigFiles, replacedWhole, sameFiles } from "../../runtime/config/files.ts";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory, readTextFileWithIdentity: platform.readTextFileWithIdentity, fileIdentity: platform.fileIdentity };

/** the same I/O, counting whole-file reads by path */
function countingIo() {
  const reads: string[] = [];
  return {
    reads,
    io: { ...io, readTextFileWithIdentity: (path: string) => (reads.push(path), platform.readTextFileWithIdentity(path)) },
  };
}

/** sets a file's modification time this many ms before now (a file left alone that long) */
const age = (path: string, ms: number) => utimes(path, new Date(Date.now() - ms), new Date(Date.now() - ms));

async function withDir(body: (dir: string) => Promise<void>) {
  const dir = await platform.makeTempDir("dietmesh-identity-");
  try {
    await body(dir);
  } finally {
    await platform.remove(dir);
  }
}

test("the identity comes with the text from one open: same file, same id", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    const [x, y] = [await platform.readTextFileWithIdentity(`${dir}/a.yaml`), await platform.readTextFileWithIdentity(`${dir}/a.yaml`)];
    assert.is(x.text, "a: 1\n");
    assert.equal(x.identity, y.identity);
    assert.match(x.identity.id, /^\d+:\d+$/);
  });
});

test("the text is readTextFile's, byte for byte: a byte-order mark, multi-byte UTF-8, an empty file", async () => {
  await withDir(async (dir) => {
    const texts = ["\uFEFFa: 1\n", "name: caf\u00e9 \u{1F600}\n".repeat(5000), ""];
    for (const [i, text] of texts.entries()) {
      await writeFile(`${dir}/${i}.yaml`, text);
      const read = await platform.readTextFileWithIdentity(`${dir}/${i}.yaml`);
      assert.is(read.text, await platform.readTextFile(`${dir}/${i}.yaml`));
      assert.is(read.text, text);
    }
  });
});

test("a file renamed over a config file is replaced whole; the other files untouched", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    await writeFile(`${dir}/b.yaml`, "b: 1\n");
    const before = await readConfigFiles([dir], io);
    await writeFile(`${dir}/a.yaml.tmp`, "a: 2\n");
    await rename(`${dir}/a.yaml.tmp`, `${dir}/a.yaml`);
    const now = await readConfigFiles([dir], io);
    assert.is(now.texts.get(`${dir}/a.yaml`), "a: 2\n");
    assert.ok(replacedWhole(before.identities, now));
    // platform.writeTextFile writes that way too
    await platform.writeTextFile(`${dir}/b.yaml`, "b: 2\n");
    assert.ok(replacedWhole(now.identities, await readConfigFiles([dir], io)));
  });
});

test("a file left alone since the reference read is stat'ed, not read; the others are read", async () => {
  await withDir(async (dir) => {
    for (const name of ["a", "b", "c"]) await writeFile(`${dir}/${name}.yaml`, `${name}: 1\n`);
    for (const name of ["a", "b"]) await age(`${dir}/${name}.yaml`, 10 * LEFT_ALONE_MS);
    const before = await readConfigFiles([dir], io);
    const { reads, io: counted } = countingIo();
    // a written in place (same size, so only its times tell), c renamed over
    await writeFile(`${dir}/a.yaml`, "a: 2\n");
    await platform.writeTextFile(`${dir}/c.yaml`, "c: 2\n");
    const now = await readConfigFiles([dir], counted, before);
    assert.equal(reads.sort(), [`${dir}/a.yaml`, `${dir}/c.yaml`]);
    assert.equal([...(now.unchanged ?? [])], [`${dir}/b.yaml`]);
    assert.is(now.texts.get(`${dir}/b.yaml`), undefined);
    assert.is(now.texts.get(`${dir}/a.yaml`), "a: 2\n");
    assert.equal(now.identities?.get(`${dir}/b.yaml`), before.identities?.get(`${dir}/b.yaml`));
    // the same reference twice: b is the same in both reads; read in full, it differs from "left alone"
    assert.ok(sameFiles(now, await readConfigFiles([dir], io, before)));
    assert.not.ok(sameFiles(now, await readConfigFiles([dir], io)));
  });
});

test("a file written shortly before the reference read is read again, whatever its identity says", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    await age(`${dir}/a.yaml`, LEFT_ALONE_MS / 2); // within the time a coarse file system could round a later write to
    const before = await readConfigFiles([dir], io);
    const { reads, io: counted } = countingIo();
    const now = await readConfigFiles([dir], counted, before);
    assert.equal(reads, [`${dir}/a.yaml`]);
    assert.is(now.unchanged, undefined);
    // a reference with no modification time (a file system that keeps none) cannot vouch for a file
    const timeless = new Map([...(before.identities ?? [])].map(([f, id]) => [f, { ...id, modifiedMs: 0 }] as const));
    const reread = countingIo();
    await readConfigFiles([dir], reread.io, { identities: timeless, startedMs: Date.now() + 10 * LEFT_ALONE_MS });
    assert.equal(reread.reads, [`${dir}/a.yaml`]);
    // without a stat in the I/O, or without a reference, every file is read
    const plain = countingIo();
    await age(`${dir}/a.yaml`, 10 * LEFT_ALONE_MS);
    const aged = await readConfigFiles([dir], io);
    await readConfigFiles([dir], { ...plain.io, fileIdentity: undefined }, aged);
    await readConfigFiles([dir], plain.io);
    assert.is(plain.reads.length, 2);
  });
});

test("a write in place is not replaced whole, alone or beside a rename", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    await writeFile(`${dir}/b.yaml`, "b: 1\n");
    const before = await readConfigFiles([dir], io);
    await appendFile(`${dir}/a.yaml`, "more: 1\n");
    const inPlace = await readConfigFiles([dir], io);
    assert.not.ok(replacedWhole(before.identities, inPlace));
    await platform.writeTextFile(`${dir}/b.yaml`, "b: 2\n");
    assert.not.ok(replacedWhole(before.identities, await readConfigFiles([dir], io)), "the in-place write rode on the rename");
  });
});

test("nothing changed, a file added or a file removed: not replaced whole (those settle)", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    const before = await readConfigFiles([dir], io);
    assert.not.ok(replacedWhole(before.identities, await readConfigFiles([dir], io)));
    await platform.writeTextFile(`${dir}/b.yaml`, "b: 1\n");
    const added = await readConfigFiles([dir], io);
    assert.not.ok(replacedWhole(before.identities, added));
    await rm(`${dir}/b.yaml`);
    assert.not.ok(replacedWhole(added.identities, await readConfigFiles([dir], io)));
    assert.not.ok(replacedWhole(undefined, added), "no earlier read: nothing to compare");
  });
});

/** a ConfigMap volume as the kubelet writes it: x.yaml → ..data/x.yaml, ..data → a timestamped folder */
async function configMapVersion(dir: string, name: string, text: string) {
  await mkdir(`${dir}/${name}`);
  await writeFile(`${dir}/${name}/x.yaml`, text);
  await symlink(name, `${dir}/..data_tmp`);
  await rename(`${dir}/..data_tmp`, `${dir}/..data`);
}

test("a ConfigMap volume's ..data symlink swap is replaced whole, by --config FOLDER and --config FILE", async () => {
  await withDir(async (dir) => {
    await configMapVersion(dir, "..2026_12_05_01", "x: 1\n");
    await symlink("..data/x.yaml", `${dir}/x.yaml`);
    for (const paths of [[dir], [`${dir}/x.yaml`]]) {
      const before = await readConfigFiles(paths, io);
      assert.equal(before.files, [`${dir}/x.yaml`]);
      assert.ok(before.identities?.get(`${dir}/x.yaml`));
      const next = `..2026_12_05_${paths[0] === dir ? "02" : "03"}`;
      await configMapVersion(dir, next, `x: ${next}\n`);
      const now = await readConfigFiles(paths, io);
      assert.is(now.texts.get(`${dir}/x.yaml`), `x: ${next}\n`);
      // the link x.yaml itself never changed: the identity is its target's
      assert.ok(replacedWhole(before.identities, now));
    }
  });
});

test("an unreadable file has no identity: not replaced whole", async () => {
  await withDir(async (dir) => {
    await writeFile(`${dir}/a.yaml`, "a: 1\n");
    const before = await readConfigFiles([`${dir}/a.yaml`], io);
    await rm(`${dir}/a.yaml`);
    const gone = await readConfigFiles([`${dir}/a.yaml`], io);
    assert.instance(gone.texts.get(`${dir}/a.yaml`), Error);
    assert.not.ok(replacedWhole(before.identities, gone));
  });
});

test.run();
