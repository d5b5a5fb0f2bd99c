// The soak's mesh: the alphabet/spelling and hello-istio demos wired as `dietmesh demo` wires them
// (every app behind its own sidecar, one gateway, one live config folder with the demo's scenario
// slots, mesh-wide STRICT mTLS from a demo CA), but with a short certificate life so that every
// proxy rotates its certificate during the run, without the demo's one-connection circuit breakers
// (liftBreakers), and with the processes' ids exposed for sampling.
// Children run on the runtime the soak runs on (runScript), so `deno run -A bench/soak/soak.ts`
// soaks Deno proxies.
import { createServer } from "node:net";
import { runScript, type Child } from "../../runtime/platform/process.ts";
import { parseDocument } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { applyScenarios, defaultScenarios, stateFile, writeFixedFiles, type DemoState } from "../../runtime/cli/demo-scenarios.ts";

const root = new URL("../../", import.meta.url).pathname;
const cli = `${root}runtime/cli/main.ts`;

/** every child started, so that a soak stopped at any moment (even mid-start) can stop them */
const spawned: Child[] = [];
const run = (file: string, args: string[], options?: Parameters<typeof runScript>[2]) => {
  const child = runScript(file, args, options);
  spawned.push(child);
  return child;
};
export function killAll(): void {
  for (const c of spawned) c.kill("SIGKILL");
}

export interface Proc {
  /** "gateway", "sidecar spelling-service v1", "app a-service v1" */
  name: string;
  child: Child;
  /** a proxy's admin listener */
  admin?: string;
}

export interface Mesh {
  dir: string;
  gateway: string;
  procs: Proc[];
  proxies: Proc[];
  stop(): Promise<void>;
}

interface Workload {
  service: string;
  version: string;
  script: string;
  args: string[];
  callsOut?: boolean;
}

const hello = `${root}demo/hello-istio/app.ts`;
const alphabet = `${root}demo/alphabet/alphabet.ts`;
const workloads: Workload[] = [
  { service: "hello-istio", version: "v1", script: hello, args: ["--version", "1.0.1"] },
  { service: "hello-istio", version: "v2", script: hello, args: ["--version", "2.0.1"] },
  { service: "spelling-service", version: "v1", script: `${root}demo/alphabet/spelling.ts`, args: [], callsOut: true },
  ...["alphabet-service", "a-service", "b-service", "c-service"].map((service) => ({ service, version: "v1", script: alphabet, args: ["--name", service] })),
];

/** a port nobody listens on now: the spelling app must know its sidecar's outbound port up front */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function registryYaml(endpoints: { service: string; version: string; inbound: string }[]): string {
  const services = [...new Set(workloads.map((w) => w.service))];
  return services.map((service) => {
    const eps = endpoints.filter((e) => e.service === service).map((e) =>
      `  - address: 127.0.0.1\n    ports: { http: ${e.inbound.split(":")[1]} }\n    labels: { app: ${service}, version: ${e.version} }\n    serviceAccount: ${service}`);
    return `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: ${service}, namespace: default }
spec:
  hosts: [${service}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:${eps.length ? `\n${eps.join("\n")}` : " []"}
`;
  }).join("---\n");
}

/** The seed's DestinationRules give alphabet-, a-, b- and c-service a circuit breaker of one
 * connection and one pending request, to show overflow (503 UO) on purpose: any pause of a few
 * hundred ms bunches three calls and trips it, and the soak would measure the demo's breaker, not
 * the mesh. The soak keeps the rules (subsets, outlier detection) without their connectionPool. */
async function liftBreakers(dir: string): Promise<void> {
  for (const name of ["alphabet-service", "a-service", "b-service", "c-service"]) {
    const path = `${dir}/${name}-destination.yaml`;
    const doc = parseDocument(await platform.readTextFile(path));
    doc.deleteIn(["spec", "trafficPolicy", "connectionPool"]);
    await platform.writeTextFile(path, doc.toString());
  }
}

export async function configVersion(admin: string): Promise<number | undefined> {
  try {
    const r = await fetch(`http://${admin}/config_dump`, { signal: AbortSignal.timeout(2000) });
    return r.status === 200 ? ((await r.json()) as { version: number }).version : undefined;
  } catch {
    return undefined;
  }
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the mesh in a new temp folder; certTtl is each proxy's --cert-ttl (renewed at 40–60 % of it). */
export async function startMesh(certTtl: string): Promise<Mesh> {
  const work = await platform.makeTempDir("dietmesh-soak-");
  const dir = `${work}/mesh`;
  const caDir = `${work}/ca`;
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs) p.child.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.child.exited));
    await platform.remove(work);
  };
  try {
    const init = run(cli, ["ca", "init", "--dir", caDir]);
    if ((await init.exited) !== 0) throw new Error(`ca init failed: ${init.lines.join("\n")}`);
    await writeFixedFiles(dir);
    await liftBreakers(dir);
    await applyScenarios(dir, defaultScenarios);
    await platform.writeTextFile(`${dir}/registry.yaml`, registryYaml([]));

    const started = await Promise.all(workloads.map(async (w) => {
      const label = `${w.service} ${w.version}`;
      const env: Record<string, string> = {};
      const outbound = w.callsOut ? await freePort() : 0;
      if (w.callsOut) Object.assign(env, { HTTP_PROXY: `http://127.0.0.1:${outbound}`, http_proxy: `http://127.0.0.1:${outbound}`, NO_PROXY: "", no_proxy: "" });
      const app = run(w.script, ["--port", "0", ...w.args], { env });
      procs.push({ name: `app ${label}`, child: app });
      const [, appAddr] = await app.waitFor(/listening on ([^\s,]+)/);
      const sidecar = run(cli, [
        "sidecar", "--config", dir, "--app", appAddr, "--inbound", "127.0.0.1:0", "--outbound", `127.0.0.1:${outbound}`,
        "--admin", "127.0.0.1:0", "--labels", `app=${w.service},version=${w.version}`,
        "--ca-dir", caDir, "--service-account", w.service, "--cert-ttl", certTtl,
        // the spelling app turns a failed call into a "?" in a 200: its sidecar's log says why
        ...(w.callsOut ? ["--access-log", "json"] : []),
      ]);
      const [line] = await sidecar.waitFor(/ready on .*/, 30_000);
      const proc = { name: `sidecar ${label}`, child: sidecar, admin: /admin (\S+)$/.exec(line)![1] };
      procs.push(proc);
      return { ...w, proc, inbound: /inbound (\S+) /.exec(line)![1] };
    }));

    // publish the endpoints; every sidecar must load them before the gateway starts
    const before = await Promise.all(started.map((s) => configVersion(s.proc.admin)));
    await platform.writeTextFile(`${dir}/registry.yaml`, registryYaml(started));
    await until(async () => (await Promise.all(started.map((s) => configVersion(s.proc.admin)))).every((v, i) => v !== undefined && v > before[i]!), 20_000, "the sidecars to load the registry");

    const gatewayChild = run(cli, ["gateway", "--config", dir, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", "--ca-dir", caDir, "--cert-ttl", certTtl]);
    const [, gateway] = await gatewayChild.waitFor(/gateway port 80 listening on (\S+)/, 30_000);
    const [, gatewayAdmin] = await gatewayChild.waitFor(/ready on \S+ admin (\S+)/, 30_000);
    const gw = { name: "gateway", child: gatewayChild, admin: gatewayAdmin };
    procs.push(gw);
    const proxies = [gw, ...started.map((s) => s.proc)];
    // `demo switch` (switchScenarios) reads this to wait for every proxy's reload
    const state: DemoState = { proxies: proxies.map((p) => ({ name: p.name, admin: p.admin! })) };
    await platform.writeTextFile(`${dir}/${stateFile}`, JSON.stringify(state));
    return { dir, gateway, procs, proxies, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
