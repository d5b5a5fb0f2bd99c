#!/usr/bin/env node
// `npx dietmesh ...`: runs the TypeScript CLI on Bun (installed as a devDependency, or on PATH).
// Set DIETMESH_RUNTIME=deno to run it on Deno instead.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "runtime", "cli", "main.ts");
const runtime = process.env.DIETMESH_RUNTIME === "deno" ? "deno" : "bun";
const local = join(root, "node_modules", ".bin", runtime);
const cmd = existsSync(local) ? local : runtime;
const args = runtime === "deno" ? ["run", "-A", "--quiet", main] : [main];
const result = spawnSync(cmd, [...args, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(result.status ?? 1);
