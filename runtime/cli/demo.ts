// `dietmesh demo`: the seed's two demos on loopback, behind one gateway.
//  - hello-istio: v1 and v2 of the service, for Host hello-istio.cloud;
//  - alphabet/spelling: spelling-service, alphabet-service and a-, b-, c-service, for Host
//    spelling.cloud; spelling-service calls the others through its sidecar (HTTP_PROXY).
// Every workload runs behind its own sidecar; the gateway and the sidecars watch one live config
// folder, and `dietmesh demo switch NAME...` copies scenario files into it (demo-scenarios.ts).
import { platform } from "../platform/index.ts";
import { runScript, type Child } from "../platform/process.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";
import { CA_FILES, initCaDir } from "../security/ca-store.ts";
import { systemClock } from "../lib/clock.ts";
import {
  applyScenarios, defaultScenarios, helloScenarios, resolveScenario, scenarioNames, stateFile, switchScenarios, writeFixedFiles, type DemoState,
} from "./demo-scenarios.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;
const cli = `${here}main.ts`;

export const demoSpec: CommandSpec = {
  name: "demo",
  summary: "Run the hello-istio and alphabet demos on loopback (or `demo switch NAME...` to change their routing).",
  usage: "dietmesh demo [flags]  |  dietmesh demo switch NAME... [--dir DIR]\n\nScenario names: " +
    scenarioNames.join(", ") + ` (bare ${helloScenarios.join(", ")} mean hello:NAME; none = plain)`,
  flags: [
    { name: "gateway", kind: "string", value: "HOST:PORT", default: "127.0.0.1:8080", help: "where the gateway serves the Gateways' port 80" },
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "the gateway's admin listener" },
    { name: "dir", kind: "string", value: "DIR", default: `${root}.demo/mesh`, help: "the live config folder the proxies watch" },
    { name: "scenario", kind: "list", value: "NAME", help: `routing to start with, over ${defaultScenarios.join(" ")}` },
    { name: "original-delays", kind: "boolean", help: "hello-istio answers slowly like the original services (v1 1 s, v2 0.5 s)" },
    { name: "ca-dir", kind: "string", value: "DIR", default: `${root}.demo/ca`, help: "the demo's CA (made on first run): every proxy gets its identity from it, for mTLS" },
    { name: "library", kind: "string", value: "SERVICE", help: "run this service with the mesh in process (createMesh) instead of a sidecar: spelling" },
  ],
};

interface Workload {
  /** the service's short name: its ServiceEntry is <service>.default.svc.cluster.local */
  service: string;
  version: string;
  script: string;
  args: string[];
  /** the app calls other services: it gets HTTP_PROXY pointing at its sidecar's outbound listener */
  callsOut?: boolean;
  /** the app also answers gRPC on its port: the service gets a GRPC port 9090 to the same endpoint */
  grpc?: boolean;
}

interface Running {
  workload: Workload;
  app: Child;
  appAddr: string;
  sidecar: Child;
  inbound: string;
  outbound: string;
  admin: string;
  /** the mesh in process (createMesh): no sidecar, `sidecar` is the app itself */
  library?: boolean;
}

function workloads(originalDelays: boolean): Workload[] {
  const hello = `${root}demo/hello-istio/app.ts`;
  const alphabet = `${root}demo/alphabet/alphabet.ts`;
  return [
    { service: "hello-istio", version: "v1", script: hello, args: ["--version", "1.0.1", "--delay-ms", originalDelays ? "1000" : "0"] },
    { service: "hello-istio", version: "v2", script: hello, args: ["--version", "2.0.1", "--delay-ms", originalDelays ? "500" : "0"] },
    { service: "spelling-service", version: "v1", script: `${root}demo/alphabet/spelling.ts`, args: [], callsOut: true },
    // one app, run four times, as the original ran one image as four Deployments
    // alphabet-service also answers gRPC on its one port (alphabet.proto), as the GRPC port 9090
    ...["alphabet-service", "a-service", "b-service", "c-service"].map((service) => ({
      service, version: "v1", script: alphabet, args: ["--name", service, ...(service === "alphabet-service" ? ["--grpc"] : [])], grpc: service === "alphabet-service",
    })),
  ];
}

/** One ServiceEntry per service, its endpoints the sidecars' inbound listeners. */
function registryYaml(services: string[], running: Running[], grpcServices: string[]): string {
  const docs = services.map((service) => {
    const grpc = grpcServices.includes(service);
    const eps = running
      .filter((r) => r.workload.service === service)
      .map((r) => {
        const port = r.inbound.slice(r.inbound.lastIndexOf(":") + 1);
        return `  - address: 127.0.0.1\n    ports: { http: ${port}${grpc ? `, grpc: ${port}` : ""} }\n    labels: { app: ${service}, version: ${r.workload.version} }\n    serviceAccount: ${service}`;
      });
    return `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: ${service}
  namespace: default
spec:
  hosts: [${service}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - { number: 8080, name: http, protocol: HTTP }${grpc ? "\n  - { number: 9090, name: grpc, protocol: GRPC }" : ""}
  endpoints:${eps.length ? `\n${eps.join("\n")}` : " []"}
`;
  });
  return `# Written by dietmesh demo: where each workload's sidecar listens (its inbound port).\n${docs.join("---\n")}`;
}

/** a port nobody listens on right now, for a listener whose address must be known before it opens */
async function freePort(): Promise<number> {
  const server = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response() });
  const port = server.port;
  await server.stop();
  return port;
}

/** polls until cond() holds or the deadline passes */
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

const label = (w: Workload) => `${w.service} ${w.version}`;

/** Writes, then waits until every proxy has logged a reload after the write; without one in 10 s
 * (a write lost by a watcher), writes again. */
async function publish(proxies: { name: string; child: Child }[], write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const marks = proxies.map((p) => p.child.lines.length);
    await write();
    const since = (i: number, pattern: RegExp) => proxies[i].child.lines.slice(marks[i]).some((l) => pattern.test(l));
    // a reload takes a worker's start on Bun (config off the serving process) plus the settle time:
    // seconds on a loaded machine, so wait long before writing again
    const done = await until(() => proxies.every((_, i) => since(i, /config version \d+ in service/) || since(i, /config change rejected/)), 10_000);
    const rejected = proxies.findIndex((_, i) => since(i, /config change rejected/));
    if (rejected !== -1) throw new Error(`the ${proxies[rejected].name} rejected the demo config:\n${proxies[rejected].child.lines.slice(marks[rejected]).join("\n")}`);
    if (done) return;
  }
  throw new Error("the proxies did not pick up a change in the live folder");
}

async function launch(flags: ReturnType<typeof parseFlags>): Promise<number> {
  const dir = flags.strings.dir!;
  const children: Child[] = [];
  let stopping = false;
  const stopAll = () => {
    stopping = true;
    children.forEach((c) => c.kill("SIGTERM"));
  };
  const stop = () => {
    stopAll();
    // a stopped demo has no admin listeners for `demo switch` to wait for
    void platform.remove(`${dir}/${stateFile}`).finally(() => platform.exit(0));
  };
  platform.onSignal("SIGINT", stop);
  platform.onSignal("SIGTERM", stop);

  const all = workloads(flags.booleans["original-delays"]);
  const services = [...new Set(all.map((w) => w.service))];
  const grpcServices = [...new Set(all.filter((w) => w.grpc).map((w) => w.service))];

  // the app first (the sidecar forwards to it), then its sidecar; a calling app learns its
  // sidecar's outbound port up front, so that port is chosen before either starts (and chosen
  // again in the unlikely case someone takes it in between)
  async function start(w: Workload): Promise<Running> {
    if (library && w.service === "spelling-service") return startLibrary(w);
    for (let attempt = 1; ; attempt++) {
      const env: Record<string, string> = {};
      const outboundPort = w.callsOut ? await freePort() : 0;
      if (w.callsOut) {
        const proxy = `http://127.0.0.1:${outboundPort}`;
        Object.assign(env, { HTTP_PROXY: proxy, http_proxy: proxy, NO_PROXY: "", no_proxy: "" });
      }
      const app = runScript(w.script, ["--port", "0", ...w.args], { echo: `[app ${label(w)}] `, env });
      children.push(app);
      const [, appAddr] = await app.waitFor(/listening on ([^\s,]+)/);
      const sidecar = runScript(cli, [
        "sidecar", "--config", dir, "--app", appAddr, "--inbound", "127.0.0.1:0", "--outbound", `127.0.0.1:${outboundPort}`,
        "--admin", "127.0.0.1:0", "--labels", `app=${w.service},version=${w.version}`,
        "--ca-dir", caDir, "--service-account", w.service,
      ], { echo: `[sidecar ${label(w)}] ` });
      children.push(sidecar);
      try {
        const [line] = await sidecar.waitFor(/ready on .*/, 30_000);
        return {
          workload: w, app, appAddr, sidecar,
          outbound: /outbound (\S+?),/.exec(line)![1],
          inbound: /inbound (\S+) /.exec(line)![1],
          admin: /admin (\S+)$/.exec(line)![1],
        };
      } catch (error) {
        if (!w.callsOut || attempt === 3) throw error;
        app.kill("SIGTERM");
        console.error(`[demo] ${label(w)}: its sidecar did not start (${(error as Error).message.split("\n")[0]}); trying another port`);
      }
    }
  }

  /** the spelling service as one process with the mesh inside it: no sidecar; its admin listener is the library's (mesh.listenAdmin) */
  async function startLibrary(w: Workload): Promise<Running> {
    const child = runScript(`${root}demo/alphabet/spelling-library.ts`, ["--config", dir, "--ca-dir", caDir, "--admin", "127.0.0.1:0"], { echo: `[library ${label(w)}] ` });
    children.push(child);
    const [, inbound, admin] = await child.waitFor(/ready: inbound (\S+) admin (\S+)/, 30_000);
    return { workload: w, app: child, appAddr: inbound, sidecar: child, inbound, outbound: "(mesh.fetch)", admin, library: true };
  }

  const library = flags.strings.library;
  if (library !== undefined && library !== "spelling") throw new UsageError(`--library: only spelling can run with the mesh in process, got "${library}"`);
  const caDir = flags.strings["ca-dir"]!;
  try {
    await ensureCa(caDir);
    await writeFixedFiles(dir);
    await applyScenarios(dir, [...defaultScenarios, ...flags.lists.scenario]);
    // the sidecars load the config before their inbound ports (the endpoints) are known
    await platform.writeTextFile(`${dir}/registry.yaml`, registryYaml(services, [], grpcServices));
    const running = await Promise.all(all.map(start));

    // publish the endpoints, and wait until every sidecar routes with them
    const sidecars = running.map((r) => ({ name: `${r.library ? "library" : "sidecar"} ${label(r.workload)}`, child: r.sidecar, admin: r.admin }));
    await publish(sidecars, () => platform.writeTextFile(`${dir}/registry.yaml`, registryYaml(services, running, grpcServices)));

    // the gateway's /dashboard also reads the sidecars' counters (and the library's), to draw the calls between them
    const peers = running.flatMap((r) => ["--dashboard-peer", r.admin]);
    const gatewayChild = runScript(cli, ["gateway", "--config", dir, "--bind", `80=${flags.strings.gateway}`, "--admin", flags.strings.admin!, "--ca-dir", caDir, ...peers], { echo: "[gateway] " });
    children.push(gatewayChild);
    const [, gatewayAddr] = await gatewayChild.waitFor(/gateway port 80 listening on (\S+)/);
    const [, gatewayAdmin] = await gatewayChild.waitFor(/ready on \S+ admin (\S+)/);
    // tell `demo switch` where the proxies' admin listeners are (it waits for their reload); a
    // proxy watches its config before it says it is ready, and only config files (never this one)
    const proxies = [{ name: "gateway", child: gatewayChild, admin: gatewayAdmin }, ...sidecars];
    const state: DemoState = { proxies: proxies.map(({ name, admin }) => ({ name, admin })) };
    await platform.writeTextFile(`${dir}/${stateFile}`, JSON.stringify(state, null, 2) + "\n");

    const width = Math.max(...running.map((r) => label(r.workload).length));
    const rows = running.map((r) =>
      r.library
        ? `  ${label(r.workload).padEnd(width)}  mesh in process (pid ${r.app.pid}, no sidecar)  inbound ${r.inbound} (mTLS)  calls with mesh.fetch  admin ${r.admin}`
        : `  ${label(r.workload).padEnd(width)}  app ${r.appAddr} (pid ${r.app.pid})  sidecar inbound ${r.inbound}  outbound ${r.outbound}  admin ${r.admin}`);
    const pid = (service: string) => running.find((r) => r.workload.service === service)!.app.pid;
    const dirFlag = dir === `${root}.demo/mesh` ? "" : ` --dir ${dir}`;
    const spell = (extra: string, word: string) => `  curl -H 'Host: spelling.cloud'${extra} 'http://${gatewayAddr}/api/spelling?word=${word}'`;
    console.log(`
dietmesh demo is running (Ctrl-C stops it). ${library ? "Every workload but spelling-service (the mesh in process) runs behind its own sidecar" : "Every workload runs behind its own sidecar"}:
${rows.join("\n")}
  gateway  port 80 on ${gatewayAddr}  admin ${gatewayAdmin}  (curl http://${gatewayAdmin}/config_dump, /clusters)
  dashboard of the whole demo mesh: http://${gatewayAdmin}/dashboard
Every hop between proxies is mTLS (mesh-wide STRICT); only spelling-service may call alphabet-service.
  curl -si -H 'Host: hello-istio.cloud' http://${gatewayAddr}/api/hello | grep xfcc   # the caller's identity, as the app got it
  curl http://${gatewayAdmin}/config_dump | grep -A4 '"identity"'              # the gateway's certificate and its expiry

hello-istio:
  curl -H 'Host: hello-istio.cloud' http://${gatewayAddr}/api/hello
  curl -H 'Host: hello-istio.cloud' -A 'Mozilla/5.0 Chrome/120' http://${gatewayAddr}/api/hello
  curl -H 'Host: hello-istio.cloud' -b 'user=leander' http://${gatewayAddr}/api/hello
alphabet/spelling (spelling-service calls the others ${library ? "with mesh.fetch, mTLS from the library" : "through its sidecar"}):
${spell("", "abc")}                       # a-, b- and c-service
${spell(" -H 'Accept-Language: de'", "abc")}
${spell("", "istio")}                     # alphabet-service, once per letter
  node demo/alphabet/grpc-spell.mjs --authority alphabet.cloud ${gatewayAddr} q   # alphabet-service over gRPC (alphabet.proto)
  kill ${pid("a-service")}        # stops a-service's app: word=abc answers "?" for a
  npm run demo:load -- --concurrency 2 --requests 50 --host spelling.cloud --gateway ${gatewayAddr}
Switch the routing live (now: ${[...defaultScenarios, ...flags.lists.scenario].join(" ")}; the proxies watch ${dir}):
  npm run demo:switch --${dirFlag} v2        # hello: ${helloScenarios.join(", ")}
  npm run demo:switch --${dirFlag} alphabet:delay   # alphabet: plain, retries, delay, fault; abc: plain, timeout
DEMO READY ${gatewayAddr}`);

    // an app may be stopped on purpose (to show the fallback); a proxy exiting ends the demo
    for (const r of running) {
      void r.app.exited.then((code) => {
        if (!stopping) console.error(`[demo] ${label(r.workload)}'s app exited (${code ?? "signal"}); its sidecar answers 503 for it until the demo restarts`);
      });
    }
    const first = await Promise.race(proxies.map((p) => p.child.exited.then(() => p.child)));
    console.error(`a demo proxy exited (pid ${first.pid}); stopping the rest`);
    stopAll();
    await platform.remove(`${dir}/${stateFile}`);
    return 1;
  } catch (error) {
    stopAll();
    await platform.remove(`${dir}/${stateFile}`);
    throw error;
  }
}

/** the demo's CA: made once, kept across runs (its root is what the identities chain to) */
async function ensureCa(dir: string): Promise<void> {
  if ((await platform.readDir(dir).catch(() => [] as string[])).includes(CA_FILES.rootKey)) return;
  console.log(`[demo] making the demo's CA in ${dir}`);
  await initCaDir(dir, { trustDomain: "cluster.local", keyType: "ec-p256", clock: systemClock });
}

export async function runDemo(argv: string[]): Promise<number> {
  const flags = parseFlags(demoSpec, argv);
  if (flags.positionals[0] === "switch") {
    const names = flags.positionals.slice(1);
    if (!names.length) throw new UsageError(`name a scenario: ${scenarioNames.join(", ")}`);
    for (const line of await switchScenarios(flags.strings.dir!, names)) console.log(line);
    return 0;
  }
  if (flags.positionals.length) throw new UsageError(`unexpected "${flags.positionals[0]}"`);
  // a misspelt --scenario fails before anything starts
  flags.lists.scenario.forEach(resolveScenario);
  return launch(flags);
}
