// `dietmesh demo`: the seed's hello-istio demo on loopback — v1 and v2 of the service, each behind
// its own sidecar, and a gateway for Host hello-istio.cloud. The gateway and the sidecars watch a
// live config folder; `dietmesh demo switch NAME` copies one of the seed's VirtualServices into it.
import { platform } from "../platform/index.ts";
import { runScript, type Child } from "../platform/process.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;
const cli = `${here}main.ts`;
const seedDir = `${root}demo/hello-istio/istio`;

/** the seed's routing configurations, by the suffix of their file name */
export const scenarios = ["v1", "v2", "75-25", "50-50", "25-75", "user-agent", "user-cookie", "virtual-service"];

export const demoSpec: CommandSpec = {
  name: "demo",
  summary: "Run the hello-istio demo on loopback (or `demo switch NAME` to change its routing).",
  usage: "dietmesh demo [flags]  |  dietmesh demo switch {" + scenarios.join("|") + "} [--dir DIR]",
  flags: [
    { name: "gateway", kind: "string", value: "HOST:PORT", default: "127.0.0.1:8080", help: "where the gateway serves the Gateway's port 80" },
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "the gateway's admin listener" },
    { name: "dir", kind: "string", value: "DIR", default: `${root}.demo/hello-istio`, help: "the live config folder the proxies watch" },
    { name: "scenario", kind: "string", value: "NAME", default: "v1", help: "routing to start with" },
    { name: "original-delays", kind: "boolean", help: "answer slowly like the original services (v1 1 s, v2 0.5 s)" },
  ],
};

async function switchScenario(dir: string, name: string): Promise<void> {
  if (!scenarios.includes(name)) throw new UsageError(`unknown scenario "${name}"; one of: ${scenarios.join(", ")}`);
  const text = await platform.readTextFile(`${seedDir}/hello-istio-${name}.yaml`);
  await platform.writeTextFile(`${dir}/virtual-service.yaml`, text);
}

function registryYaml(endpoints: { version: string; port: number }[]): string {
  const eps = endpoints
    .map((e) => `  - address: 127.0.0.1\n    ports: { http: ${e.port} }\n    labels: { app: hello-istio, version: ${e.version} }`)
    .join("\n");
  return `# Written by dietmesh demo: where the two hello-istio workloads' sidecars listen.
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: hello-istio
  namespace: default
spec:
  hosts: [hello-istio.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - { number: 8080, name: http, protocol: HTTP }
  endpoints:
${eps}
`;
}

async function launch(flags: ReturnType<typeof parseFlags>): Promise<number> {
  const dir = flags.strings.dir!;
  const children: Child[] = [];
  const stopAll = () => children.forEach((c) => c.kill("SIGTERM"));
  platform.onSignal("SIGINT", () => { stopAll(); platform.exit(0); });
  platform.onSignal("SIGTERM", () => { stopAll(); platform.exit(0); });
  try {
    await platform.mkdir(dir);
    for (const f of ["hello-istio-gateway.yaml", "hello-istio-destination.yaml"]) {
      await platform.writeTextFile(`${dir}/${f}`, await platform.readTextFile(`${seedDir}/${f}`));
    }
    await switchScenario(dir, flags.strings.scenario!);
    await platform.writeTextFile(`${dir}/registry.yaml`, registryYaml([]));

    const endpoints: { version: string; port: number }[] = [];
    for (const [version, semver, delay] of [["v1", "1.0.1", "1000"], ["v2", "2.0.1", "500"]]) {
      const app = runScript(`${root}demo/hello-istio/app.ts`, ["--port", "0", "--version", semver, "--delay-ms", flags.booleans["original-delays"] ? delay : "0"], { echo: `[app ${version}] ` });
      children.push(app);
      const [, appAddr] = await app.waitFor(/listening on (\S+)/);
      const sidecar = runScript(cli, ["sidecar", "--config", dir, "--app", appAddr, "--inbound", "127.0.0.1:0", "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--labels", `app=hello-istio,version=${version}`], { echo: `[sidecar ${version}] ` });
      children.push(sidecar);
      const [, inboundPort] = await sidecar.waitFor(/inbound [^ ]+:(\d+)/);
      endpoints.push({ version, port: Number(inboundPort) });
    }
    await platform.writeTextFile(`${dir}/registry.yaml`, registryYaml(endpoints));
    const gateway = runScript(cli, ["gateway", "--config", dir, "--bind", `80=${flags.strings.gateway}`, "--admin", flags.strings.admin!], { echo: "[gateway] " });
    children.push(gateway);
    const [, gatewayAddr] = await gateway.waitFor(/gateway port 80 listening on (\S+)/);
    await gateway.waitFor(/ready on/);
    console.log(`
dietmesh demo is running (Ctrl-C stops it). Try:
  curl -H 'Host: hello-istio.cloud' http://${gatewayAddr}/api/hello
  curl -H 'Host: hello-istio.cloud' -A 'Mozilla/5.0 Chrome/120' http://${gatewayAddr}/api/hello
  curl -H 'Host: hello-istio.cloud' -b 'user=leander' http://${gatewayAddr}/api/hello
  curl http://${flags.strings.admin}/config_dump   (and /clusters, /ready)
Switch the routing live (the proxies watch ${dir}):
  npm run demo:switch -- {${scenarios.join("|")}}
DEMO READY ${gatewayAddr}`);
    const first = await Promise.race(children.map((c) => c.exited.then(() => c)));
    console.error(`a demo process exited (pid ${first.pid}); stopping the rest`);
    stopAll();
    return 1;
  } catch (error) {
    stopAll();
    throw error;
  }
}

export async function runDemo(argv: string[]): Promise<number> {
  const flags = parseFlags(demoSpec, argv);
  if (flags.positionals[0] === "switch") {
    const name = flags.positionals[1];
    if (!name) throw new UsageError(`name a scenario: ${scenarios.join(", ")}`);
    await switchScenario(flags.strings.dir!, name);
    console.log(`switched ${flags.strings.dir}/virtual-service.yaml to hello-istio-${name}.yaml`);
    return 0;
  }
  if (flags.positionals.length) throw new UsageError(`unexpected "${flags.positionals[0]}"`);
  return launch(flags);
}
