// The single executable (`npm run build`; scripts/image.mjs and the test runner's executable pass
// build it here too): Bun's --compile of the CLI, with the config worker's entry embedded beside it.
// A worker's module must be an entry point of its own to be in the executable; `--root runtime`
// puts it at discovery/config-worker-main.js inside, where platform.embeddedModule() finds it
// (runtime/platform/bun.ts). Without it every config load would run in the serving process.
//   node scripts/build-exe.mjs [OUTFILE]     (default dist/dietmesh)
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** builds the executable at outfile; the spawn's result (status 0 when built), output captured unless inherit */
export function buildExecutable(outfile, { inherit = false } = {}) {
  const args = ["build", "--compile", "--root", "runtime", "runtime/cli/main.ts", "runtime/discovery/config-worker-main.ts", "--outfile", outfile];
  return spawnSync(join(root, "node_modules", ".bin", "bun"), args, { cwd: root, encoding: "utf8", stdio: inherit ? "inherit" : "pipe" });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = buildExecutable(resolve(process.argv[2] ?? join(root, "dist", "dietmesh")), { inherit: true });
  process.exit(built.status ?? 1);
}
