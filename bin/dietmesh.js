#!/usr/bin/env node
// `npx dietmesh ...`: runs the TypeScript CLI on Bun (installed as a devDependency, or on PATH).
// Set DIETMESH_RUNTIME=deno to run it on Deno instead. SIGINT and SIGTERM are passed on to the
// child, so a drain started by an orchestrator reaches the proxy; the child's exit code is ours.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "runtime", "cli", "main.ts");
const runtime = process.env.DIETMESH_RUNTIME === "deno" ? "deno" : "bun";
const local = join(root, "node_modules", ".bin", runtime);
const cmd = existsSync(local) ? local : runtime;
const args = runtime === "deno" ? ["run", "-A", "--quiet", main] : [main];
const child = spawn(cmd, [...args, ...process.argv.slice(2)], { stdio: "inherit" });
child.on("error", (error) => {
  const missing = error.code === "ENOENT";
  console.error(missing ? `dietmesh: ${runtime} not found (run npm install in ${root}, or put ${runtime} on PATH)` : `dietmesh: cannot start ${runtime}: ${error.message}`);
  process.exit(127);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : 15) : 1)));
