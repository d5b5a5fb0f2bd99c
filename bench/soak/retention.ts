// Leak hunting for the soak (docs/performance.md "Soak"): one sidecar in front of the hello app,
// then one cause of churn at a time — config reloads, certificate renewals, or plain traffic — and
// the sidecar's heap after a forced GC (POST /debug/gc, DIETMESH_DEBUG_GC=1) before and after, with
// the object types whose live counts grew most (Bun; Deno gives RSS and heap only).
// Usage: bun bench/soak/retention.ts --mode reload|renew|traffic [--count 40]
//        deno run -A bench/soak/retention.ts ...   (the sidecar then runs with --expose-gc)
// Modes: reload (a routing file rewritten, each reload awaited), renew (4-s certificates, renewed
// every ~2 s), renew+traffic (requests all along), traffic (200 requests per round, one at a time).
import { parseArgs } from "node:util";
import { request } from "node:http";
import { runScript, type Child } from "../../runtime/platform/process.ts";
import { platform } from "../../runtime/platform/index.ts";
import { applyScenarios, defaultScenarios, writeFixedFiles } from "../../runtime/cli/demo-scenarios.ts";
import { configVersion } from "./topology.ts";

const { values } = parseArgs({
  args: platform.args(),
  options: { mode: { type: "string", default: "reload" }, count: { type: "string", default: "40" } },
});
const mode = values.mode!;
const count = Number(values.count);
const root = new URL("../../", import.meta.url).pathname;
const cli = `${root}runtime/cli/main.ts`;
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

interface Heap { collected: boolean; rss: number; heapUsed: number; heapTotal?: number; external?: number; objects?: Record<string, number> }

const children: Child[] = [];
const work = await platform.makeTempDir("dietmesh-retention-");
const dir = `${work}/mesh`;
try {
  const init = runScript(cli, ["ca", "init", "--dir", `${work}/ca`]);
  if ((await init.exited) !== 0) throw new Error(init.lines.join("\n"));
  await writeFixedFiles(dir);
  await applyScenarios(dir, defaultScenarios);
  const app = runScript(`${root}demo/hello-istio/app.ts`, ["--port", "0", "--version", "1.0.1"]);
  children.push(app);
  const [, appAddr] = await app.waitFor(/listening on ([^\s,]+)/);
  // a renewal every ~2 s in renew mode; in the others no renewal during the run
  const ttl = mode.startsWith("renew") ? "4s" : "24h";
  const args = ["sidecar", "--config", dir, "--app", appAddr, "--inbound", "127.0.0.1:0", "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0",
    "--labels", "app=hello-istio,version=v1", "--ca-dir", `${work}/ca`, "--service-account", "hello-istio", "--cert-ttl", ttl];
  // runScript starts a Deno child with --expose-gc when this is set
  process.env.DIETMESH_DEBUG_GC = "1";
  const sidecar = runScript(cli, args);
  children.push(sidecar);
  const [line] = await sidecar.waitFor(/ready on .*/, 30_000);
  const admin = /admin (\S+)$/.exec(line)![1];
  const outbound = /outbound ([^\s,]+)/.exec(line)![1];
  const inbound = /inbound ([^\s,]+)/.exec(line)![1];
  // the app's service, served by this very sidecar: outbound → mTLS → its own inbound → app
  const v0 = await configVersion(admin);
  await platform.writeTextFile(`${dir}/registry.yaml`, `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: hello-istio, namespace: default }
spec:
  hosts: [hello-istio.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
  - address: 127.0.0.1
    ports: { http: ${inbound.split(":")[1]} }
    labels: { app: hello-istio, version: v1 }
    serviceAccount: hello-istio
`);
  while ((await configVersion(admin)) === v0) await new Promise((r) => setTimeout(r, 20));
  const gc = async (): Promise<Heap> => (await (await fetch(`http://${admin}/debug/gc`, { method: "POST" })).json()) as Heap;
  // node:http, not fetch: Deno's fetch does not send the Host header given
  const get = () => new Promise<number>((resolve, reject) => {
    const [hostname, port] = outbound.split(":");
    request({ hostname, port: Number(port), path: "/api/hello", headers: { host: "hello-istio.default.svc.cluster.local:8080" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    }).on("error", reject).end();
  });
  const traffic = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const status = await get();
      if (status !== 200) throw new Error(`traffic: ${status}`);
    }
  };
  const churn = async (i: number) => {
    if (mode === "reload") {
      const before = await configVersion(admin);
      await applyScenarios(dir, [i % 2 ? "hello:v2" : "hello:v1"]);
      const deadline = Date.now() + 10_000;
      while ((await configVersion(admin)) === before) {
        if (Date.now() > deadline) throw new Error("reload not seen");
        await new Promise((r) => setTimeout(r, 20));
      }
    } else if (mode.startsWith("renew")) {
      // renew+traffic: requests all along, so connections made under each certificate stay in use
      const renewed = () => sidecar.lines.filter((l) => l.includes("certificate renewed")).length;
      const seen = renewed();
      while (renewed() === seen) mode === "renew+traffic" ? await traffic(20) : await new Promise((r) => setTimeout(r, 50));
    } else {
      await traffic(200);
    }
  };
  // warm-up: a few rounds of the same churn, so that lazily built things exist in both snapshots
  await traffic(50);
  for (let i = 0; i < 4; i++) await churn(i);
  await gc();
  const before = await gc();
  const t0 = Date.now();
  const rss: string[] = [];
  for (let i = 0; i < count; i++) {
    await churn(i);
    if ((i + 1) % Math.ceil(count / 5) === 0) {
      const h = await gc();
      rss.push(`${(h.rss / 1048576).toFixed(1)}${h.heapTotal ? ` (heap total ${(h.heapTotal / 1048576).toFixed(1)}, external ${(h.external! / 1048576).toFixed(1)})` : ""}`);
    }
  }
  console.log(`rss after GC along the run (MB): ${rss.join(", ")}`);
  await traffic(20);
  await gc();
  const after = await gc();
  const mb = (b: number) => (b / 1048576).toFixed(1);
  console.log(`${isDeno ? "deno" : "bun"} ${mode} ×${count} in ${((Date.now() - t0) / 1000).toFixed(0)} s (gc ${after.collected ? "forced" : "NOT available"}): rss ${mb(before.rss)} → ${mb(after.rss)} MB, heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB`);
  if (before.objects && after.objects) {
    const grew = Object.entries(after.objects).map(([type, n]) => [type, n - (before.objects![type] ?? 0), n] as const)
      .filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1]).slice(0, 25);
    for (const [type, d, n] of grew) console.log(`  +${d}\t${type} (${n})`);
  }
} finally {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await platform.remove(work);
}
