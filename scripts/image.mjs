#!/usr/bin/env node
// `npm run image`: an OCI image archive of the single executable, built without a container daemon
// or registry. The image is one layer: the executable, the shared libraries it links (glibc, from
// this machine's Debian), the CA certificates for TLS origination, a non-root user and /tmp.
// The OCI image layout (blobs, manifest, config, index) is a few JSON files and two digests, so it
// is written here rather than pulling in umoci or buildah. Push it with
//   skopeo copy oci-archive:dist/dietmesh-oci.tar docker://REGISTRY/dietmesh/proxy:VERSION
//
// Usage: node scripts/image.mjs [--exe PATH] [--out DIR]   (defaults: build dist/dietmesh, write dist/)
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildExecutable } from "./build-exe.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const out = flag("--out") ?? join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// the one place the image's name and tag come from (runtime/inject/defaults.ts reads the same)
const imageName = pkg.config?.image ?? "dietmesh/proxy";
const tag = pkg.version;

let exe = flag("--exe");
if (!exe) {
  exe = join(root, "dist", "dietmesh");
  if (buildExecutable(exe, { inherit: true }).status !== 0) process.exit(1);
}

const work = join(out, "image-work");
const rootfs = join(work, "rootfs");
rmSync(work, { recursive: true, force: true });
mkdirSync(rootfs, { recursive: true });

function put(from, to, mode) {
  const target = join(rootfs, to);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(from, target);
  if (mode) chmodSync(target, mode);
}

put(exe, "usr/local/bin/dietmesh", 0o755);
// the dynamic loader and every library the executable links, at the paths it asks for
for (const line of execFileSync("ldd", [exe], { encoding: "utf8" }).split("\n")) {
  const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
  if (m) put(m[1], m[1].slice(1));
}
if (existsSync("/etc/ssl/certs/ca-certificates.crt")) put("/etc/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt");
mkdirSync(join(rootfs, "etc"), { recursive: true });
writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n");
writeFileSync(join(rootfs, "etc/group"), "root:x:0:\nnonroot:x:65532:\n");
mkdirSync(join(rootfs, "home/nonroot"), { recursive: true });
mkdirSync(join(rootfs, "tmp"), { recursive: true });
// mount points a container runtime fills (the executable reads itself through /proc/self/exe)
for (const dir of ["proc", "sys", "dev"]) mkdirSync(join(rootfs, dir), { recursive: true });
chmodSync(join(rootfs, "tmp"), 0o1777);

// a reproducible layer: sorted names, numeric owners, fixed times
const layerTar = join(work, "layer.tar");
execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", layerTar, "."]);
const tarBytes = readFileSync(layerTar);
const gz = gzipSync(tarBytes, { level: 9 });
const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");

const layout = join(work, "layout");
const blobs = join(layout, "blobs", "sha256");
mkdirSync(blobs, { recursive: true });
const blob = (bytes) => {
  const digest = sha(bytes);
  writeFileSync(join(blobs, digest), bytes);
  return { digest: `sha256:${digest}`, size: bytes.length };
};

const layer = blob(gz);
const created = "1970-01-01T00:00:00Z";
const config = blob(Buffer.from(JSON.stringify({
  created,
  architecture: "amd64",
  os: "linux",
  config: {
    User: "65532:65532",
    Entrypoint: ["/usr/local/bin/dietmesh"],
    Cmd: ["--help"],
    Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "HOME=/home/nonroot"],
    WorkingDir: "/home/nonroot",
    Labels: {
      "org.opencontainers.image.title": "dietmesh",
      "org.opencontainers.image.description": pkg.description,
      "org.opencontainers.image.version": tag,
      "org.opencontainers.image.licenses": pkg.license,
    },
  },
  rootfs: { type: "layers", diff_ids: [`sha256:${sha(tarBytes)}`] },
  history: [{ created, created_by: "scripts/image.mjs" }],
})));
const manifest = blob(Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
})));
writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
writeFileSync(join(layout, "index.json"), JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": tag } }],
}));

const archive = join(out, "dietmesh-oci.tar");
execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", layout, "-cf", archive, "."]);
rmSync(work, { recursive: true, force: true });
const mb = (n) => (n / 1024 / 1024).toFixed(1);
console.log(`${archive}: ${imageName}:${tag}, one layer ${mb(layer.size)} MB compressed (${mb(tarBytes.length)} MB unpacked), archive ${mb(statSync(archive).size)} MB`);
