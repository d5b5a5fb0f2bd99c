// The library's bundled build for Bun (issue 16 cold start: ~50 ms less from import to the first
// response than the TypeScript sources, and 5–7 MB less RSS, docs/performance.md), used by a Bun
// consumer of the package through its "bun" export condition and made at `prepack` (and by the
// scratch-project test before it installs the package). The repository's own CLI, tests and
// benches never use it: they import the sources. The config worker's entry is bundled too and
// reached where discovery/config-worker.ts looks for it — `new URL("./config-worker-main.ts",
// import.meta.url)`, beside whichever output holds that code — by a small module of that name
// that imports the bundled entry (Bun runs a .ts file of plain JavaScript as it is).
//   node scripts/build-bun.mjs [OUTDIR]     (default dist/bun)
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = new URL("../", import.meta.url).pathname;
const outdir = resolve(root, process.argv[2] ?? "dist/bun");
const bun = join(root, "node_modules/.bin/bun");
rmSync(outdir, { recursive: true, force: true });
const build = spawnSync(bun, ["build", "runtime/library/index.ts", "runtime/discovery/config-worker-main.ts", "--root", "runtime", "--outdir", outdir, "--target=bun", "--format=esm", "--splitting", "--minify"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
const workerEntry = join(outdir, "discovery/config-worker-main.js");
const holders = files(outdir).filter((f) => f.endsWith(".js") && f !== workerEntry && readFileSync(f, "utf8").includes("config-worker-main.ts"));
if (!holders.length) throw new Error("build-bun: no output names config-worker-main.ts; the config worker would not be found");
for (const dir of new Set(holders.map(dirname))) {
  const target = `./${relative(dir, workerEntry)}`;
  writeFileSync(join(dir, "config-worker-main.ts"), `// the config worker's entry for the bundle (scripts/build-bun.mjs)\nimport ${JSON.stringify(target)};\n`);
}
console.log(`build-bun: ${outdir} (config worker entry beside ${holders.map((h) => relative(outdir, h)).join(", ")})`);
