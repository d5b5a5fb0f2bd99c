// End to end with the real Prometheus tools: the demo gateway's /stats/prometheus under load passes
// `promtool check metrics`, and a real Prometheus scraping it sees the 50-50 split in
// rate(istio_requests_total). Needs Debian's `prometheus` package (installed via ensure-tools.sh).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, eventually, root } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

let demo: Child | undefined;
let prometheus: Child | undefined;
let gateway = "";
let admin = "";
let dir = "";
let tmp = "";

// ---- load through the gateway (the platform's client: Deno's fetch would replace the Host header)
const load = { stop: false, count: 0, failures: [] as string[], versions: {} as Record<string, number>, workers: [] as Promise<void>[] };

async function fetchVersion(): Promise<{ status: number; version?: string }> {
  const res = await upstreamClient.send({ url: `http://${gateway}/api/hello`, method: "GET", headers: new Headers({ host: "hello-istio.cloud" }), body: null });
  const text = await res.text();
  return { status: res.status, version: res.status === 200 ? JSON.parse(text).version : undefined };
}

function startLoad(workers = 4) {
  const worker = async () => {
    while (!load.stop) {
      try {
        const r = await fetchVersion();
        load.count++;
        if (r.status !== 200) load.failures.push(`status ${r.status}`);
        else load.versions[r.version!] = (load.versions[r.version!] ?? 0) + 1;
      } catch (e) {
        load.failures.push(String(e));
      }
    }
  };
  for (let i = 0; i < workers; i++) load.workers.push(worker());
}

async function stopLoad() {
  load.stop = true;
  await Promise.all(load.workers.splice(0));
}

/** runs a command to completion; resolves with its exit code and output */
async function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = runCommand(cmd, args);
  const code = await child.exited;
  return { code, out: child.lines.join("\n") };
}

async function freePort(): Promise<number> {
  const server = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("") });
  const port = server.port;
  await server.stop(true);
  return port;
}

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

test.before(async () => {
  // scripts/test.mjs only ensures curl and openssl; this suite needs prometheus and promtool
  const tools = await run("bash", [`${root}scripts/ensure-tools.sh`, "prometheus", "promtool"]);
  if (tools.code !== 0) throw new Error(`ensure-tools.sh prometheus promtool failed (exit ${tools.code}):\n${tools.out}`);
  dir = await platform.makeTempDir("dietmesh-demo-");
  tmp = await platform.makeTempDir("dietmesh-prom-");
  const started = Date.now();
  demo = runScript(cli, ["demo", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 30_000);
  [, admin] = await demo.waitFor(/^\s*gateway\s+port 80 on \S+\s+admin (\S+)/, 1000);
  console.log(`demo ready in ${elapsed(started)}: gateway ${gateway}, admin ${admin}`);
});

test.after(async () => {
  load.stop = true;
  await Promise.all(load.workers.splice(0));
  for (const child of [prometheus, demo]) {
    if (!child) continue;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.exited;
    clearTimeout(timer);
  }
  if (dir) await platform.remove(dir);
  if (dir) await platform.remove(`${dir}-ca`);
  if (tmp) await platform.remove(tmp);
});

test("hello switched to 50-50 serves both versions under load", async () => {
  const sw = runScript(cli, ["demo", "switch", "50-50", "--dir", dir]);
  assert.is(await sw.exited, 0, sw.lines.join("\n"));
  startLoad();
  await eventually(async () => Object.keys(load.versions).length === 2, 15_000, "both versions under load");
  assert.equal(load.failures, []);
});

test("promtool check metrics accepts the gateway's /stats/prometheus under load", async () => {
  await eventually(async () => load.count > 100, 10_000, "some load");
  const res = await fetch(`http://${admin}/stats/prometheus`);
  assert.is(res.status, 200);
  const text = await res.text();
  assert.match(text, /istio_requests_total\{/);
  const file = `${tmp}/metrics.txt`;
  await platform.writeTextFile(file, text);
  const check = await run("sh", ["-c", 'promtool check metrics < "$1"', "sh", file]);
  console.log(`promtool check metrics: exit ${check.code}${check.out ? `\n${check.out}` : " (no output)"}`);
  // exit 1 is a parse error, 3 lint problems. Istio's standard names are what they are: the one
  // lint promtool raises against them (istio_request_duration_milliseconds is not in seconds) is
  // accepted; any other problem fails.
  const istioNames = /^istio_request_duration_milliseconds use base unit "seconds" instead of "milliseconds"$/;
  const lint = check.out.split("\n").filter((l) => l.trim() && !istioNames.test(l.trim()));
  const ok = check.code === 0 || (check.code === 3 && lint.length === 0);
  assert.ok(ok, `promtool check metrics exited ${check.code}:\n${check.out}`);
});

test("a real Prometheus sees the 50-50 split in rate(istio_requests_total)", async () => {
  const port = await freePort();
  const web = `127.0.0.1:${port}`;
  const config = `${tmp}/prometheus.yml`;
  await platform.writeTextFile(config, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dietmesh-gateway
    metrics_path: /stats/prometheus
    static_configs:
      - targets: ["${admin}"]
`);
  await platform.mkdir(`${tmp}/data`);
  const started = Date.now();
  prometheus = runCommand("prometheus", [
    `--config.file=${config}`, `--storage.tsdb.path=${tmp}/data`, `--web.listen-address=${web}`, "--web.enable-lifecycle",
  ]);
  const exitedEarly = prometheus.exited.then((code) => `prometheus exited (${code}):\n${prometheus!.lines.join("\n")}`);
  await Promise.race([
    eventually(async () => (await fetch(`http://${web}/-/ready`)).status === 200, 20_000, "prometheus /-/ready"),
    exitedEarly.then((msg) => Promise.reject(new Error(msg))),
  ]);
  const ready = Date.now();
  console.log(`prometheus ready in ${elapsed(started)} on ${web}`);

  const query = async (q: string) => {
    const res = await fetch(`http://${web}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = await res.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.is(body.status, "success", JSON.stringify(body));
    return body.data.result;
  };
  await eventually(async () => (await query('up{job="dietmesh-gateway"}'))[0]?.value[1] === "1", 10_000, "the gateway target up");
  const up = Date.now();
  console.log(`target up after ${elapsed(ready)}`);

  // bounded load duration: 12 s of scrapes once the target is up, so the [10s] window is full of
  // 50-50 traffic scraped every second
  const countAtReady = load.count;
  await new Promise((r) => setTimeout(r, 12_000));
  const rateQuery = 'sum by (destination_version) (rate(istio_requests_total{response_code="200"}[10s]))';
  const result = await eventually(async () => {
    const r = await query(rateQuery);
    return r.length === 2 && r.every((s) => Number(s.value[1]) > 0) ? r : undefined;
  }, 10_000, "two destination_version series with traffic");
  const total = result.reduce((sum, s) => sum + Number(s.value[1]), 0);
  const shares = Object.fromEntries(result.map((s) => [s.metric.destination_version, (Number(s.value[1]) / total) * 100]));
  console.log(`load ran ${elapsed(ready)} after ready, ${elapsed(up)} after target up (${load.count - countAtReady} requests, ${load.count} total; client saw ${JSON.stringify(load.versions)})`);
  console.log(`rates: ${result.map((s) => `${s.metric.destination_version}=${Number(s.value[1]).toFixed(1)}/s`).join(" ")}; shares: ${Object.entries(shares).map(([v, s]) => `${v} ${s.toFixed(1)}%`).join(", ")}`);
  await stopLoad();
  assert.equal(load.failures, []);
  for (const [version, share] of Object.entries(shares)) assert.ok(Math.abs(share - 50) <= 5, `${version} share ${share.toFixed(1)}% (${JSON.stringify(result)})`);
});

test.run();
