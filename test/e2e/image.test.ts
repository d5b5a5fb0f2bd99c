// `npm run image` (scripts/image.mjs): an OCI image archive built with no daemon. The archive's
// index, manifest and config are read as a registry would (digests checked), the entrypoint is a
// non-root dietmesh, and the one layer, unpacked into a root file system, runs the entrypoint's
// `--version` there (unshare + chroot, /proc mounted as a container runtime does; nothing else
// from this machine's file system is used). Needs root, as building images does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { must, root } from "../support/mesh.ts";

let work: string;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-image-");
  await must("node", [`${root}scripts/build-exe.mjs`, `${work}/dietmesh`]);
  await must("node", [`${root}scripts/image.mjs`, "--exe", `${work}/dietmesh`, "--out", work]);
  await platform.mkdir(`${work}/layout`);
  await must("tar", ["-C", `${work}/layout`, "-xf", `${work}/dietmesh-oci.tar`]);
});

test.after(async () => {
  await platform.remove(work);
});

/** a blob of the layout, its digest checked */
function blob(digest: string): Buffer {
  const bytes = readFileSync(`${work}/layout/blobs/sha256/${digest.slice("sha256:".length)}`);
  assert.is(`sha256:${createHash("sha256").update(bytes).digest("hex")}`, digest, "blob content matches its digest");
  return bytes;
}

test("index → manifest → config, as a registry reads them: version tag, non-root user, dietmesh as entrypoint", async () => {
  const pkg = JSON.parse(await platform.readTextFile(`${root}package.json`));
  const index = JSON.parse(await platform.readTextFile(`${work}/layout/index.json`));
  assert.is(index.manifests[0].annotations["org.opencontainers.image.ref.name"], pkg.version);
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  assert.is(manifest.layers.length, 1);
  const config = JSON.parse(blob(manifest.config.digest).toString());
  assert.equal(config.config.Entrypoint, ["/usr/local/bin/dietmesh"]);
  assert.is(config.config.User, "65532:65532");
  assert.is(config.config.Labels["org.opencontainers.image.version"], pkg.version);
  blob(manifest.layers[0].digest);
});

test("the layer is a root file system that runs the entrypoint on its own (chroot)", async () => {
  const index = JSON.parse(await platform.readTextFile(`${work}/layout/index.json`));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString());
  const layer = manifest.layers[0].digest.slice("sha256:".length);
  await platform.mkdir(`${work}/rootfs`);
  await must("tar", ["-C", `${work}/rootfs`, "-xzf", `${work}/layout/blobs/sha256/${layer}`]);
  // as a container runtime would: a private mount namespace with /proc mounted, then the entrypoint
  // as the image's user inside the root file system
  const script = `mount -t proc proc ${work}/rootfs/proc && exec chroot --userspec=65532:65532 ${work}/rootfs /usr/local/bin/dietmesh --version`;
  const child = runCommand("unshare", ["--mount", "--fork", "sh", "-c", script]);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  assert.match(child.lines.join("\n"), /^dietmesh \d+\.\d+\.\d+ \(bun /);
});

test.run();
