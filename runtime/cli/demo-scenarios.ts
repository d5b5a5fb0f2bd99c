// The demos' live config folder and its routing scenarios. The folder holds both demos' Gateways
// and DestinationRules, the registry, and one "slot" file per VirtualService that a scenario
// switches: `active-<service>.yaml`. A switch copies one file over a slot (write to a temporary
// file, then rename), so the folder never holds two resources with the same kind and name, which
// the loader would reject as duplicates.
import { platform } from "../platform/index.ts";
import { UsageError } from "./args.ts";
import { upstreamClient } from "../upstream/default-client.ts";

const root = new URL("../../", import.meta.url).pathname;
const helloSeed = "demo/hello-istio/istio";
const alphabetSeed = "demo/alphabet/istio";
const ownDir = "demo/alphabet/dietmesh";

/** the seed's hello-istio routings, by the suffix of their file name (bare names mean these) */
export const helloScenarios = ["v1", "v2", "75-25", "50-50", "25-75", "user-agent", "user-cookie", "virtual-service"];

/** alphabet-service's VirtualService variants; "plain" is dietmesh's own base state */
const alphabetScenarios: Record<string, string> = {
  plain: `${ownDir}/alphabet-service-plain.yaml`,
  retries: `${alphabetSeed}/alphabet-service-virtual-service.yaml`,
  delay: `${alphabetSeed}/alphabet-service-delay.yaml`,
  fault: `${alphabetSeed}/alphabet-service-fault.yaml`,
};

/** a-, b- and c-service's variants: the seed's 1 s route timeout, or dietmesh's plain route */
const letterScenarios: Record<string, (x: string) => string> = {
  plain: (x) => `${ownDir}/${x}-service-plain.yaml`,
  timeout: (x) => `${alphabetSeed}/${x}-service-virtual-service.yaml`,
};

const aliases: Record<string, string> = { none: "plain" };

/** every scenario name `demo switch` takes (bare hello names work too) */
export const scenarioNames = [
  ...helloScenarios.map((n) => `hello:${n}`),
  ...Object.keys(alphabetScenarios).map((n) => `alphabet:${n}`),
  ...Object.keys(letterScenarios).flatMap((n) => ["abc", "a", "b", "c"].map((x) => `${x}:${n}`)),
];

/** what the demo starts with; --scenario names apply on top */
export const defaultScenarios = ["hello:v1", "alphabet:plain", "abc:plain"];

/** files copied into the live folder once, unmodified: the Gateways and the DestinationRules.
 * The seed's DestinationRules for alphabet-, a-, b- and c-service carry the circuit breakers and
 * outlier detection, and define the subset v1 every route names, so they are always in. */
export const fixedFiles = [
  `${helloSeed}/hello-istio-gateway.yaml`,
  `${helloSeed}/hello-istio-destination.yaml`,
  `${alphabetSeed}/spelling-gateway.yaml`,
  `${alphabetSeed}/spelling-service-virtual-service.yaml`,
  `${alphabetSeed}/spelling-service-destination.yaml`,
  `${alphabetSeed}/alphabet-service-destination.yaml`,
  `${alphabetSeed}/a-service-destination.yaml`,
  `${alphabetSeed}/b-service-destination.yaml`,
  `${alphabetSeed}/c-service-destination.yaml`,
  // dietmesh's own: mesh-wide STRICT mTLS, and only spelling-service may call alphabet-service
  "demo/security/mesh-strict-mtls.yaml",
  "demo/security/alphabet-service-authz.yaml",
];

/** copied beside them: alphabet-service's gRPC side at the gateway (alphabet.cloud: Gateway,
 * VirtualService, and the gateway allowed to call Spell); kept apart from the seed's routing */
export const grpcFiles = [`${ownDir}/alphabet-grpc.yaml`];

export interface Choice {
  /** the service whose VirtualService the scenario sets; the live file is active-<slot>.yaml */
  slot: string;
  /** root-relative path of the file copied into the slot */
  source: string;
  /** the canonical scenario name, e.g. "alphabet:plain" */
  name: string;
}

export const liveFile = (slot: string) => `active-${slot}.yaml`;

/** "v2", "hello:v2", "alphabet:fault", "abc:timeout", "b:none" → the slots to fill; throws UsageError */
export function resolveScenario(input: string): Choice[] {
  const colon = input.indexOf(":");
  const demo = colon === -1 ? "hello" : input.slice(0, colon);
  const given = colon === -1 ? input : input.slice(colon + 1);
  const name = aliases[given] ?? given;
  const unknown = () => new UsageError(`unknown scenario "${input}"; one of: ${scenarioNames.join(", ")} (bare hello names too; "none" means "plain")`);
  if (demo === "hello") {
    if (!helloScenarios.includes(name)) throw unknown();
    return [{ slot: "hello-istio", source: `${helloSeed}/hello-istio-${name}.yaml`, name: `hello:${name}` }];
  }
  if (demo === "alphabet") {
    if (!Object.hasOwn(alphabetScenarios, name)) throw unknown();
    return [{ slot: "alphabet-service", source: alphabetScenarios[name], name: `alphabet:${name}` }];
  }
  if (demo === "abc" || demo === "a" || demo === "b" || demo === "c") {
    if (!Object.hasOwn(letterScenarios, name)) throw unknown();
    return [...(demo === "abc" ? "abc" : demo)].map((x) => ({ slot: `${x}-service`, source: letterScenarios[name](x), name: `${x}:${name}` }));
  }
  throw unknown();
}

/** Fills the slots the named scenarios set, in order (later names win). Every name is checked
 * before any file is written. Returns one line per slot written. */
export async function applyScenarios(dir: string, names: string[]): Promise<string[]> {
  const choices = names.flatMap(resolveScenario);
  if (!(await platform.isDirectory(dir))) {
    throw new Error(`no live config folder at ${dir}: is \`npm run demo\` running? (pass the same --dir as the demo)`);
  }
  const lines: string[] = [];
  for (const c of choices) {
    await platform.writeTextFile(`${dir}/${liveFile(c.slot)}`, await platform.readTextFile(`${root}${c.source}`));
    lines.push(`${c.name}: ${c.source} → ${dir}/${liveFile(c.slot)}`);
  }
  return lines;
}

/** Where the running demo's proxies have their admin listeners, so that `demo switch` can wait
 * for them. A dot-file: the config loader skips it. */
export const stateFile = ".dietmesh-demo.json";

export interface DemoState {
  proxies: { name: string; admin: string }[];
}

async function configVersion(admin: string): Promise<number | undefined> {
  try {
    const response = await upstreamClient.send({
      url: `http://${admin}/config_dump`, method: "GET", headers: new Headers({ host: admin }), body: null, signal: AbortSignal.timeout(1000),
    });
    const body = await response.text();
    return response.status === 200 ? (JSON.parse(body) as { version: number }).version : undefined;
  } catch {
    return undefined;
  }
}

async function readState(dir: string): Promise<DemoState | undefined> {
  try {
    return JSON.parse(await platform.readTextFile(`${dir}/${stateFile}`)) as DemoState;
  } catch {
    return undefined;
  }
}

/** `demo switch`: fills the slots, then waits until every proxy of the running demo serves a config
 * built after the change (each proxy's /config_dump version goes up). Returns lines to print. */
export async function switchScenarios(dir: string, names: string[], timeoutMs = 10_000): Promise<string[]> {
  names.forEach(resolveScenario); // a misspelt name fails before anything is read or written
  const state = await readState(dir);
  const before = new Map<string, number>();
  await Promise.all((state?.proxies ?? []).map(async (p) => {
    const v = await configVersion(p.admin);
    if (v !== undefined) before.set(p.name, v);
  }));
  const lines = (await applyScenarios(dir, names)).map((l) => `switched ${l}`);
  if (!before.size) return [...lines, "(no running demo answered on its admin listeners, so nothing to wait for)"];
  const pending = new Set(before.keys());
  const admins = new Map(state!.proxies.map((p) => [p.name, p.admin]));
  const deadline = Date.now() + timeoutMs;
  while (pending.size && Date.now() < deadline) {
    await Promise.all([...pending].map(async (name) => {
      const v = await configVersion(admins.get(name)!);
      if (v !== undefined && v > before.get(name)!) pending.delete(name);
    }));
    if (pending.size) await new Promise((r) => setTimeout(r, 25));
  }
  if (pending.size) throw new Error(`the change is written, but ${[...pending].join(", ")} did not load it within ${timeoutMs / 1000} s (see the demo's log)`);
  return [...lines, `in service: all ${before.size} proxies of the demo reloaded`];
}

/** Copies the fixed files into a (new or existing) live folder. */
export async function writeFixedFiles(dir: string): Promise<void> {
  await platform.mkdir(dir);
  for (const source of [...fixedFiles, ...grpcFiles]) {
    await platform.writeTextFile(`${dir}/${source.slice(source.lastIndexOf("/") + 1)}`, await platform.readTextFile(`${root}${source}`));
  }
}
