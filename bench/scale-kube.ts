// The diet at scale with the Kubernetes registry (issue 11 items 4 and 5), measured: the test API
// server (in this process) holds N Services, each with a Pod per endpoint and an EndpointSlice of
// 3 endpoints; a sidecar with --registry kubernetes calls 5 of them. Prints the time from exec to
// "ready", RSS when ready, the first request's latency to each service (above 200 Services its
// endpoints are listed on that first use, adapters/kubernetes/endpoint-watches.ts), RSS after
// traffic, the time from `kubectl apply` of an EndpointSlice change for a called service to the
// first request routed by it, and what the sidecar asked of the API server (lists, watches). RSS is
// also read 1 s after a full GC, with its anonymous part (heaps and allocator, not mapped code), and
// 3 s after that, once the sidecar has been idle long enough to give start-up's memory back.
//   bun bench/scale-kube.ts [--services 2000] [--dietmesh DIR]   (
//   `deno run -A` for Deno's figures; --dietmesh runs another checkout's sidecar, for a before/after)
import { platform } from "../runtime/platform/index.ts";
import { runCommand, runScript } from "../runtime/platform/process.ts";
import { upstreamClient } from "../runtime/upstream/default-client.ts";
import { kubeClient, startKubeApi } from "../test/support/kube-api.ts";

const args = platform.args();
const flag = (name: string, fallback: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const services = Number(flag("services", "2000"));
const runtime = platform.name;
const root = flag("dietmesh", new URL("../", import.meta.url).pathname).replace(/\/?$/, "/");
const PER_SLICE = 3;

// one upstream on every loopback address: endpoints 127.a.b.c:PORT all reach it; a second one
// answers "moved", for the slice change
const upstream = platform.serve({ hostname: "0.0.0.0", port: 0, handler: () => new Response("old") });
const moved = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("moved") });
const api = startKubeApi({});
const k = kubeClient(api.store);
const dir = await platform.makeTempDir("dietmesh-scale-kube-");
const kubeconfig = await api.kubeconfig(`${dir}/kubeconfig`);

const address = (n: number) => `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) || 1}`;
const slice = (i: number, endpoints: { address: string; pod: string }[], port: number) => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: { name: `svc-${i}-abcde`, namespace: "default", labels: { "kubernetes.io/service-name": `svc-${i}` } },
  addressType: "IPv4", ports: [{ name: "http", port, protocol: "TCP" }],
  endpoints: endpoints.map((e) => ({ addresses: [e.address], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: "default", name: e.pod } })),
});
const filled = performance.now();
for (let i = 0; i < services; i++) {
  await k.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: `svc-${i}`, namespace: "default" } });
  await k.create({ apiVersion: "v1", kind: "Service", metadata: { name: `svc-${i}`, namespace: "default" }, spec: { selector: { app: `svc-${i}` }, ports: [{ name: "http", port: 8080, targetPort: "http" }] } });
  const endpoints = Array.from({ length: PER_SLICE }, (_, e) => ({ address: address(i * PER_SLICE + e), pod: `svc-${i}-${e}` }));
  for (const [e, ep] of endpoints.entries()) {
    await k.create({ apiVersion: "v1", kind: "Pod", metadata: { name: ep.pod, namespace: "default", labels: { app: `svc-${i}`, version: `v${(e % 2) + 1}` } }, spec: { serviceAccountName: `svc-${i}`, containers: [{ name: "app", image: "app:1" }] } });
  }
  await k.create(slice(i, endpoints, upstream.port));
}
const fillMs = performance.now() - filled;

const f1 = (n: number) => n.toFixed(1);
function rssMb(pid: number): Promise<number> {
  return platform.readTextFile(`/proc/${pid}/status`).then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024);
}

const started = performance.now();
const child = runScript(`${root}runtime/cli/main.ts`, ["sidecar", "--registry", "kubernetes", "--kubeconfig", kubeconfig, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0"], { env: { DIETMESH_DEBUG_GC: "1" } });
const [line] = await child.waitFor(/ready on .*/, 120_000);
const readyMs = performance.now() - started;
const outbound = /outbound (\S+?),/.exec(line)![1];
const admin = /admin (\S+)/.exec(line)![1];
const pid = child.pid;
const rssReady = await rssMb(pid);

async function call(host: string): Promise<string> {
  const res = await upstreamClient.send({ url: `http://${outbound}/x`, method: "GET", headers: new Headers({ host }), body: null });
  return `${res.status} ${await res.text()}`;
}

// 5 services spread over the mesh; the first request to each is timed on its own
const called = [0, 1, Math.floor(services / 3), Math.floor(services / 2), services - 1].map((i) => `svc-${i}:8080`);
const firsts: number[] = [];
for (const host of called) {
  const t = performance.now();
  const answer = await call(host);
  firsts.push(performance.now() - t);
  if (answer !== "200 old") throw new Error(`the first request to ${host} got "${answer}"`);
}
for (let r = 0; r < 50; r++) for (const host of called) await call(host);
const rssTraffic = await rssMb(pid);
// what stays after a full GC (admin /debug/gc, the soak's leak-hunting hook): the state, not the garbage
const gc = await upstreamClient.send({ url: `http://${admin}/debug/gc`, method: "POST", headers: new Headers({ host: admin }), body: null });
const after = gc.status === 200 ? ((await gc.json()) as { rss: number; heapUsed: number }) : undefined;
// and a second later: Bun's allocator returns freed pages to the OS in the background, not at once
await new Promise((resolve) => setTimeout(resolve, 1000));
const rssLater = await rssMb(pid);
// of that, what is the process's own (anonymous: heaps, allocator) rather than the runtime's mapped code
const anonLater = Number(/^Anonymous:\s+(\d+)/m.exec(await platform.readTextFile(`/proc/${pid}/smaps_rollup`))![1]) / 1024;
// and once the sidecar has been idle for a second: start-up's garbage is given back then
// (lib/shrink-when-idle.ts), not while the requests above keep it busy
await new Promise((resolve) => setTimeout(resolve, 3000));
const rssIdle = await rssMb(pid);
const afterGc = after ? `${f1(after.rss / 2 ** 20)} MB after a full GC (heap ${f1(after.heapUsed / 2 ** 20)} MB)` : `no /debug/gc (${gc.status})`;

// kubectl apply moves svc-1's endpoints to the "moved" upstream: the time to the first request it routes
const changed = `${dir}/slice.json`;
await platform.writeTextFile(changed, JSON.stringify(slice(1, [{ address: "127.0.0.1", pod: "svc-1-0" }], moved.port)));
const kubectlStarted = performance.now();
const kubectl = runCommand("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", `${dir}/cache`, "apply", "-f", changed], { env: { HOME: dir } });
if ((await kubectl.exited) !== 0) throw new Error(`kubectl apply failed:\n${kubectl.lines.join("\n")}`);
const applied = performance.now();
let seen = "";
while (seen !== "200 moved") {
  if (performance.now() - applied > 60_000) throw new Error(`the slice change was not routed after 60 s (svc-1 answers "${seen}")`);
  seen = await call("svc-1:8080");
}
const changeMs = performance.now() - applied;

// what this sidecar asked of the API server (the bench's own kubectl aside)
const mine = api.requests.filter((r) => !r.path.startsWith("/openapi") && r.query.fieldManager === undefined);
const count = (what: string, watch: boolean) => mine.filter((r) => r.path.endsWith(`/${what}`) && (r.query.watch === "true") === watch).length;
const load = ["services", "endpointslices", "pods"].map((what) => `${what} ${count(what, false)} lists / ${count(what, true)} watches`).join(", ");

child.kill("SIGTERM");
await child.exited;
await Promise.all([upstream.stop(true), moved.stop(true), api.stop()]);
await platform.remove(dir);
console.log(`${runtime}, ${services} Services / ${services} EndpointSlices / ${services * PER_SLICE} Pods (filled in ${f1(fillMs / 1000)} s): ready ${f1(readyMs)} ms after exec, RSS ${f1(rssReady)} MB ready, ${f1(rssTraffic)} MB after 250 requests to 5 services, ${afterGc}, ${f1(rssLater)} MB 1 s later (${f1(anonLater)} MB anonymous), ${f1(rssIdle)} MB 4 s later; first request per service ${firsts.map(f1).join(" / ")} ms; EndpointSlice change routed ${f1(changeMs)} ms after kubectl apply returned (${f1(applied - kubectlStarted)} ms for kubectl itself); API requests: ${load}`);
