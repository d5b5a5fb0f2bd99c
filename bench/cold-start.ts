// Cold start of the library (issue 16, docs/performance.md "The mesh in process"): RUNS fresh
// processes per mode, each importing dietmesh, creating a mesh with a small config (one
// ServiceEntry, one VirtualService) and making its first mesh.fetch to a local upstream
// (bench/cold-start-child.ts); prints median, min and max of each phase, and once the import
// graph's heavy parts, each timed on top of the ones before it. A run takes a few seconds.
//   bun bench/cold-start.ts [RUNS] [LIBRARY]      (LIBRARY: a build's index.js instead of the sources,
//   such as the package's own Bun build: `npm run build:bun`, then dist/bun/library/index.js as an absolute path)
import { platform } from "../runtime/platform/index.ts";
import { runCommand } from "../runtime/platform/process.ts";

const runs = Number(platform.args()[0] ?? 10);
const library = platform.args()[1];
const child = new URL("./cold-start-child.ts", import.meta.url).pathname;
const bun = new URL("../node_modules/.bin/bun", import.meta.url).pathname;
const upstream = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("ok") });

async function once(args: string[]): Promise<Record<string, any>> {
  const run = runCommand(bun, [child, ...args]);
  const code = await run.exited;
  const line = run.lines.find((l) => l.startsWith("{"));
  if (code !== 0 || !line) throw new Error(`cold-start-child ${args.join(" ")} failed (${code}):\n${run.lines.join("\n")}`);
  return JSON.parse(line);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor(s.length / 2)].toFixed(0)} (${s[0].toFixed(0)}–${s[s.length - 1].toFixed(0)})`;
};

console.log(`Bun ${platform.runtimeVersion}, ${runs} runs per mode${library ? `, library ${library}` : ", library from the TypeScript sources"}; ms, median (min–max)`);
console.log("| config | process start → script | import | createMesh | first mesh.fetch | import → first response |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
// the same config checked ahead (`dietmesh check --emit`), for the `checked` mode
const checkedDir = await platform.makeTempDir("dietmesh-checked-");
await platform.writeTextFile(`${checkedDir}/mesh.json`, JSON.stringify({ apiVersion: "v1", kind: "List", items: [
  { apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc.default.svc.cluster.local"], location: "MESH_INTERNAL", resolution: "STATIC", ports: [{ number: 8080, name: "http", protocol: "HTTP" }], endpoints: [{ address: "127.0.0.1", ports: { http: upstream.port } }] } },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "svc", namespace: "default" }, spec: { hosts: ["svc"], http: [{ retries: { attempts: 2 }, route: [{ destination: { host: "svc" } }] }] } },
] }));
const checkedFile = `${checkedDir}/checked.json`;
const check = runCommand(bun, [new URL("../runtime/cli/main.ts", import.meta.url).pathname, "check", "--emit", checkedFile, `${checkedDir}/mesh.json`]);
if ((await check.exited) !== 0) throw new Error(`dietmesh check --emit failed:\n${check.lines.join("\n")}`);

for (const mode of ["resources", "files", "checked"]) {
  const results: Record<string, any>[] = [];
  // alternating would be fairer on a busy machine, but each run is its own process anyway
  const args = mode === "checked" ? [library ?? "../runtime/library/index.ts", checkedFile] : mode === "files" ? [library ?? "../runtime/library/index.ts", `${checkedDir}/mesh.json`] : library ? [library] : [];
  for (let i = 0; i < runs; i++) results.push(await once([mode, String(upstream.port), ...args]));
  const col = (key: string) => stats(results.map((r) => r[key]));
  console.log(`| ${mode} | ${col("boot")} | ${col("import")} | ${col("createMesh")} | ${col("firstFetch")} | ${col("total")} |`);
}

if (!library) {
  const parts: Record<string, number[]> = {};
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const { rows } = await once(["modules"]);
    for (const [name, ms] of Object.entries(rows as Record<string, number>)) (parts[name] ??= []).push(ms);
  }
  console.log("\nthe import graph's parts, each on top of those above it (ms, median (min–max)):");
  for (const [name, xs] of Object.entries(parts)) console.log(`  ${name.padEnd(36)} ${stats(xs)}`);
}
await platform.remove(checkedDir);
await upstream.stop(true);
