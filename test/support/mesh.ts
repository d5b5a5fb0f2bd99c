// Helpers for end-to-end tests: real dietmesh processes on loopback with OS-chosen ports, a real
// upstream that echoes what it received, temp config folders, and curl.
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { find, parseExposition } from "../telemetry/prom-parse.ts";

export const root = new URL("../../", import.meta.url).pathname;
export const cli = `${root}runtime/cli/main.ts`;
/**
 * The seed's unmodified Istio YAML as the repository carries it (demo/<folder>/istio/, checked
 * byte for byte against the seed where it is present, see seed-copies.ts):
 * "hello-istio/hello-istio-v1.yaml" → its path. No test needs anything outside the clone.
 */
export const showcase = (file: string) => {
  const [folder, name] = file.split("/");
  return new URL(`../../demo/${folder}/istio/${name ?? ""}`, import.meta.url).pathname;
};

/**
 * `dietmesh ARGS` as the tests start it: the TypeScript CLI on the runtime under test, or, when
 * DIETMESH_TEST_EXECUTABLE names one (scripts/test.mjs sets it for its executable pass), the single
 * executable that `npm run build` makes — so the same end-to-end tests check what operators ship.
 */
export function dietmesh(args: string[]): Child {
  const exe = process.env.DIETMESH_TEST_EXECUTABLE;
  return exe ? runCommand(exe, args) : runScript(cli, args);
}

const started: Child[] = [];
export function stopAll(): void {
  for (const c of started.splice(0)) c.kill("SIGKILL");
}

export interface Sidecar {
  child: Child;
  outbound: string;
  inbound?: string;
  admin: string;
}

export async function startSidecar(configDir: string, extra: string[] = []): Promise<Sidecar> {
  const child = dietmesh(["sidecar", "--config", configDir, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...extra]);
  started.push(child);
  const [line] = await child.waitFor(/ready on .*/);
  return {
    child,
    outbound: /outbound (\S+?),/.exec(line)![1],
    inbound: /inbound (\S+?) /.exec(line)?.[1],
    admin: /admin (\S+)$/.exec(line)![1],
  };
}

export interface Gateway {
  child: Child;
  port80: string;
  admin: string;
}

export async function startGateway(configDir: string, extra: string[] = []): Promise<Gateway> {
  const child = dietmesh(["gateway", "--config", configDir, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", ...extra]);
  started.push(child);
  const [, port80] = await child.waitFor(/gateway port 80 listening on (\S+)/);
  const [, admin] = await child.waitFor(/ready on \S+ admin (\S+)/);
  return { child, port80, admin };
}

export function startProcess(file: string, args: string[]): Child {
  const child = runScript(file, args);
  started.push(child);
  return child;
}

/** An upstream that answers with JSON describing the request it got (method, path, headers, body). */
export function startEcho(name: string) {
  const requests: { method: string; url: string; headers: Record<string, string>; body: string }[] = [];
  const server = platform.serve({
    hostname: "127.0.0.1",
    port: 0,
    async handler(request) {
      const body = await request.text();
      const seen = { name, method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body };
      requests.push(seen);
      return new Response(JSON.stringify(seen), { headers: { "content-type": "application/json", "x-echo": name, connection: "keep-alive", "keep-alive": "timeout=5" } });
    },
  });
  return { server, requests, address: `127.0.0.1:${server.port}` };
}

export async function tempConfig(files: Record<string, string>): Promise<string> {
  const dir = await platform.makeTempDir("dietmesh-test-");
  for (const [name, text] of Object.entries(files)) await platform.writeTextFile(`${dir}/${name}`, text);
  return dir;
}

/** a STATIC ServiceEntry; an endpoint with a serviceAccount is in the mesh (auto mTLS, its identity checked) */
export function serviceEntry(name: string, host: string, endpoints: { address: string; labels?: Record<string, string>; serviceAccount?: string }[], port = 8080): string {
  const eps = endpoints
    .map((e) => {
      const [address, p] = e.address.split(":");
      return `  - address: ${address}\n    ports: { http: ${p} }\n    labels: ${JSON.stringify(e.labels ?? {})}` + (e.serviceAccount ? `\n    serviceAccount: ${e.serviceAccount}` : "");
    })
    .join("\n");
  return `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${port}, name: http, protocol: HTTP }]
  endpoints:
${eps}
`;
}

/** runs a command (or `dietmesh` on the current runtime) to its end: exit code and output */
export async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const child = command === "dietmesh" ? dietmesh(args) : runCommand(command, args);
  const code = (await child.exited) ?? -1;
  return { code, out: child.lines.join("\n") };
}

/** run(), failing the test with the output when the command does not exit 0 */
export async function must(command: string, args: string[]): Promise<string> {
  const { code, out } = await run(command, args);
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}: ${out}`);
  return out;
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** runs the real curl; -i output is split into status, headers (lower-case) and body */
/** one sample of a proxy's admin /stats/prometheus (the first with these labels), or undefined */
export async function metricValue(admin: string, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // fetch, not curl(): its body is the exposition byte for byte (curl() trims the last line feed)
  return find(parseExposition(await (await fetch(`http://${admin}/stats/prometheus`)).text()), name, labels)[0]?.value;
}

export async function curl(args: string[]): Promise<CurlResult> {
  const child = runCommand("curl", ["-s", "-i", "--max-time", "10", ...args]);
  const code = await child.exited;
  if (code !== 0) throw new Error(`curl ${args.join(" ")} exited ${code}: ${child.lines.join("\n")}`);
  const text = child.lines.join("\n").replace(/\r/g, "");
  const split = text.indexOf("\n\n") !== -1 ? text.indexOf("\n\n") : text.length;
  const head = text.slice(0, split).split("\n");
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const c = line.indexOf(":");
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  return { status: Number(head[0].split(" ")[1]), headers, body: text.slice(split + 2) };
}

/** polls fn until it returns a truthy value or the deadline passes */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}
