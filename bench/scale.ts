// The diet at scale (issue 11), measured: a sidecar given N services from static files, as the issue
// describes them — N ServiceEntries of 5 endpoints each, and for every tenth service a
// DestinationRule with two subsets and a VirtualService with a header match and 90/10 weights,
// plus one routed probe service. Prints the time from exec to "ready", RSS when ready, RSS after 10
// reloads with traffic to 5 services, and how long a one-line change to the probe's VirtualService
// takes to be in service (write → first request that sees it). The change is written the documented
// way, a temporary file in the same folder renamed over the config file (applied after 40 ms of
// quiet); `--change-write in-place` writes into the file instead (it then waits for the settle
// rule: two equal reads 300 ms apart, issue 15). Last, read after the figures (a
// config dump of a large mesh is large), what the sidecar has compiled: hosts (on first use in a
// mesh of more than 200 services, model/on-demand.ts) and clusters.
// `--heap` (memory hunting): the sidecar runs with DIETMESH_DEBUG_GC=1, and after ready and after
// the reloads the bench collects through /debug/gc and prints RSS, heap and the object types that grew.
// `--reloads N` (default 10); `--idle-rss S` prints RSS S seconds after the change as well.
// `--executable PATH`: the sidecar is that single executable (npm run build) instead of the sources.
//   bun bench/scale.ts [--services 1000]    (npm run bench:scale; `deno run -A` for Deno's figures:
//   the sidecar runs on the runtime the bench runs on)
import { writeFile } from "node:fs/promises";
import { platform } from "../runtime/platform/index.ts";
import { runCommand, runScript } from "../runtime/platform/process.ts";
import { upstreamClient } from "../runtime/upstream/default-client.ts";

const args = platform.args();
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const services = Number(flag("services", "1000"));
const heap = args.includes("--heap");
const reloads = Number(flag("reloads", "10"));
// what each reload changes: a comment appended to a file of ServiceEntries (default: nothing in the
// model changes), or `serviceentry`: a new ServiceEntry appended to it (the registry is rebuilt)
const reloadChange = flag("reload-change", "comment");
const changeWrite = flag("change-write", "rename");
if (changeWrite !== "rename" && changeWrite !== "in-place") throw new Error("--change-write rename|in-place");
const runtime = platform.name;
const root = new URL("../", import.meta.url).pathname;

// one upstream on every loopback address: endpoints 127.a.b.c:PORT all reach it
const upstream = platform.serve({ hostname: "0.0.0.0", port: 0, handler: (req) => new Response(new URL(req.url).pathname) });
const port = upstream.port;
const dir = await platform.makeTempDir("dietmesh-scale-");

function serviceYaml(i: number): string {
  const host = `svc-${i}.default.svc.cluster.local`;
  const endpoints = Array.from({ length: 5 }, (_, e) => {
    const n = i * 5 + e;
    return `  - { address: 127.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) || 1}, ports: { http: ${port} }, labels: { version: v${(e % 2) + 1} } }`;
  }).join("\n");
  let text = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
${endpoints}
`;
  if (i % 10 === 0) {
    text += `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc-${i}, namespace: default }
spec:
  host: ${host}
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc-${i}, namespace: default }
spec:
  hosts: [${host}]
  http:
  - match: [{ headers: { x-canary: { exact: "yes" } } }]
    route: [{ destination: { host: ${host}, subset: v2 } }]
  - route:
    - { destination: { host: ${host}, subset: v1 }, weight: 90 }
    - { destination: { host: ${host}, subset: v2 }, weight: 10 }
`;
  }
  return text;
}

const probe = (answer: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: probe, namespace: default }
spec:
  hosts: [probe]
  http:
  - directResponse: { status: 200, body: { string: ${answer} } }
`;

// 100 services per file, as a large config usually comes in pieces
const perFile = 100;
for (let f = 0; f * perFile < services; f++) {
  const docs: string[] = [];
  for (let i = f * perFile; i < Math.min(services, (f + 1) * perFile); i++) docs.push(serviceYaml(i));
  await platform.writeTextFile(`${dir}/services-${f}.yaml`, docs.join("---\n"));
}
await platform.writeTextFile(`${dir}/probe.yaml`, probe("one"));

function rssMb(pid: number): Promise<number> {
  return platform.readTextFile(`/proc/${pid}/status`).then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024);
}

const started = performance.now();
const executable = flag("executable", "");
const sidecarArgs = ["sidecar", "--config", dir, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0"];
const childOptions = heap ? { env: { DIETMESH_DEBUG_GC: "1" } } : {};
const child = executable ? runCommand(executable, sidecarArgs, childOptions) : runScript(`${root}runtime/cli/main.ts`, sidecarArgs, childOptions);
const [line] = await child.waitFor(/ready on .*/, 120_000);
const readyMs = performance.now() - started;
const outbound = /outbound (\S+?),/.exec(line)![1];
const admin = /admin (\S+)/.exec(line)![1];
const pid = child.pid;
const rssReady = await rssMb(pid);

interface Collected {
  rss: number;
  heapUsed: number;
  objects?: Record<string, number>;
}
async function collect(): Promise<Collected> {
  const res = await upstreamClient.send({ url: `http://${admin}/debug/gc`, method: "POST", headers: new Headers({ host: admin }), body: null });
  return (await res.json()) as Collected;
}
const mb = (n: number) => (n / 1048576).toFixed(1);
const heapReady = heap ? await collect() : undefined;
if (heapReady) console.log(`collected when ready: RSS ${mb(heapReady.rss)} MB, heap ${mb(heapReady.heapUsed)} MB`);

async function call(host: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await upstreamClient.send({ url: `http://${outbound}/x`, method: "GET", headers: new Headers({ host, ...headers }), body: null });
  return `${res.status} ${await res.text()}`;
}

const called = ["svc-0:8080", "svc-1:8080", "svc-10:8080", "svc-2:8080"];
let version = 1;
for (let reload = 0; reload < reloads; reload++) {
  for (let r = 0; r < 20; r++) for (const host of called) await call(host, r % 5 === 0 ? { "x-canary": "yes" } : {});
  const next = version + 1;
  // a whitespace change to one file: a new config version with everything re-read
  const addition = reloadChange === "serviceentry" ? `---\n${serviceYaml(services + 1 + reload)}` : `\n# reload ${reload}\n`;
  await platform.writeTextFile(`${dir}/services-0.yaml`, (await platform.readTextFile(`${dir}/services-0.yaml`)) + addition);
  await child.waitFor(new RegExp(`config version ${next} in service`), 120_000);
  version = next;
}
const rssReloads = await rssMb(pid);
// the same half a second later: on Bun the last reload's worker and freed pages go back to the OS
// only then (measured: 153 MB at the "in service" line, 141 MB from 0.5 s on, flat for 2 s)
await new Promise((resolve) => setTimeout(resolve, 500));
const rssSettled = await rssMb(pid);
if (heapReady) {
  const after = await collect();
  console.log(`collected after the reloads: RSS ${mb(after.rss)} MB, heap ${mb(after.heapUsed)} MB`);
  const types = new Set([...Object.keys(heapReady.objects ?? {}), ...Object.keys(after.objects ?? {})]);
  const rows = [...types].map((t) => [t, heapReady.objects?.[t] ?? 0, after.objects?.[t] ?? 0] as const).sort((a, b) => b[2] - a[2]).slice(0, 25);
  for (const [t, a, b] of rows) console.log(`  ${t.padEnd(32)} ${String(a).padStart(9)} ${String(b).padStart(9)}`);
}

// a one-line change to the probe's route: write → the first request that sees it
const PROBE = "probe.default.svc.cluster.local";
const before = await call(PROBE);
const changed = performance.now();
// platform.writeTextFile writes `probe.yaml.PID.tmp` beside it and renames it over probe.yaml
if (changeWrite === "rename") await platform.writeTextFile(`${dir}/probe.yaml`, probe("two"));
else await writeFile(`${dir}/probe.yaml`, probe("two"));
let seen = before;
const deadline = changed + 60_000;
while (!seen.endsWith(" two")) {
  if (performance.now() > deadline) throw new Error(`the change was not in service after 60 s (probe answers "${seen}")`);
  seen = await call(PROBE);
}
const changeMs = performance.now() - changed;
// `--idle-rss S`: RSS S seconds after the change, once a worker started ahead for the next change
// (config-worker.ts, 30 s) has been ended unused
const idleS = Number(flag("idle-rss", "0"));
if (idleS > 0) await new Promise((resolve) => setTimeout(resolve, idleS * 1000));
const rssIdle = idleS > 0 ? await rssMb(pid) : undefined;

const dumpRes = await upstreamClient.send({ url: `http://${admin}/config_dump`, method: "GET", headers: new Headers({ host: admin }), body: null });
const dump = (await dumpRes.json()) as { clusters: unknown[]; onDemand?: { hosts: number; compiled: { host: string }[] } };
const compiled = dump.onDemand ? `${dump.onDemand.compiled.length} of ${dump.onDemand.hosts} hosts compiled on first use` : "every host compiled at once";

child.kill("SIGTERM");
await child.exited;
await upstream.stop(true);
await platform.remove(dir);
const f1 = (n: number) => n.toFixed(1);
console.log(`${executable ? `${runtime} executable ${executable}` : runtime}, ${services} services / ${services * 5} endpoints / ${Math.ceil(services / 10)} VirtualServices: ready ${f1(readyMs)} ms after exec, RSS ${f1(rssReady)} MB ready, ${f1(rssReloads)} MB after ${reloads} reloads (${reloadChange}) with traffic to 5 services (${f1(rssSettled)} MB 0.5 s later), a one-line change (${changeWrite}) in service ${f1(changeMs)} ms after the write (probe answered "${before}" before); ${compiled}, ${dump.clusters.length} clusters${rssIdle === undefined ? "" : `; RSS ${f1(rssIdle)} MB ${idleS} s after the change`}`);
