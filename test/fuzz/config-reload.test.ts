// Config fuzzer, live-reload side: one real gateway watches a folder with a known route
// (known.cloud → an echo upstream); random mutations of the demo's and the tests' Istio YAML are
// written into the folder as fuzz.yaml, one at a time. After each write the gateway must say, in
// bounded time, either "rejected" — and then /config_dump shows the very same version and config as
// before, and the known route still answers — or "in service" — and then every Istio resource of
// the file is in /config_dump, none half there. Then the file is removed (and the removal applied)
// before the next. The gateway must never exit. A failing input is kept in test/fuzz/regressions/.
// DIETMESH_FUZZ_SECONDS runs longer (default: 20 s when CI is set, else 8 s); DIETMESH_FUZZ_SEED
// replays a run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { curl, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";
import { corpus, fuzzSeconds, fuzzSeed, mutate, prng } from "./mutate.ts";

const OUTCOME_TIMEOUT_MS = 10_000;
const here = new URL(".", import.meta.url).pathname;
const seed = fuzzSeed(platform.env);
const seconds = fuzzSeconds(platform.env, platform.env("CI") ? 20 : 8);
const echo = startEcho("known");
let dir = "";
let gateway: Gateway;

const BASE = {
  "gateway.yaml": `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: known-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [known.cloud] }]
`,
  "vs.yaml": `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: known }
spec:
  hosts: [known.cloud]
  gateways: [known-gateway]
  http:
  - headers: { response: { set: { x-config: base } } }
    route: [{ destination: { host: known.default.svc.cluster.local } }]
`,
};

interface Dump {
  version: number;
  config: Record<string, { kind: string; metadata: { name: string; namespace?: string }; origin: { file: string } }[]>;
}

async function dump(): Promise<Dump> {
  const r = await fetch(`http://${gateway.admin}/config_dump`);
  return (await r.json()) as Dump;
}

/** curl, not fetch: Deno's fetch does not let a caller set Host */
async function known(): Promise<{ status: number; config: string | null }> {
  const r = await curl(["-H", "Host: known.cloud", `http://${gateway.port80}/`]);
  return { status: r.status, config: r.headers["x-config"] ?? null };
}

/** the resources of the dump that came from one file, as "Kind namespace/name", sorted */
function fromFile(d: Dump, file: string): string[] {
  return Object.values(d.config).flat()
    .filter((r) => r.origin?.file?.endsWith(file))
    .map((r) => `${r.kind} ${r.metadata.namespace ?? "default"}/${r.metadata.name}`).sort();
}

/**
 * The Istio resources of the text, as the dump would name them, decided as the loader decides
 * (config/load-resources.ts). Istio means an istio.io API group: what apiVersion holds before its
 * first "/", and none without one. A mutated "networking.!!js/functionistio.io/v1alpha3" has the
 * group "networking.!!js" and is skipped with a notice, not built (seed 107865033, input 18).
 */
function istioResources(text: string): string[] {
  const out: string[] = [];
  type Raw = { apiVersion?: unknown; kind?: unknown; items?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  const visit = (r: Raw) => {
    if (!r || typeof r !== "object" || typeof r.apiVersion !== "string" || typeof r.kind !== "string") return;
    // kubectl's List (any kind ending in "List" with items): the loader reads each item
    if (r.kind.endsWith("List") && Array.isArray(r.items)) return r.items.forEach((item) => visit(item as Raw));
    // a namespace that is not a string is not one: the loader puts the resource in the default namespace
    const namespace = typeof r.metadata?.namespace === "string" ? r.metadata.namespace : "default";
    if (/^[^/]*istio\.io\//.test(r.apiVersion)) out.push(`${r.kind} ${namespace}/${r.metadata?.name}`);
  };
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, logLevel: "error" }) as unknown as { toJS(o: object): unknown }[]) {
    visit(doc.toJS({ maxAliasCount: 100 }) as Raw);
  }
  return out.sort();
}

/** writes (or removes) fuzz.yaml; resolves with the gateway's verdict on it and its log lines */
async function write(text: string | null): Promise<{ verdict: "rejected" | "in service"; log: string }> {
  const mark = gateway.child.lines.length;
  if (text === null) await platform.remove(`${dir}/fuzz.yaml`);
  else await platform.writeTextFile(`${dir}/fuzz.yaml`, text);
  const deadline = Date.now() + OUTCOME_TIMEOUT_MS;
  for (;;) {
    const lines = gateway.child.lines.slice(mark);
    const log = lines.join("\n");
    if (lines.some((l) => /config change rejected/.test(l))) return { verdict: "rejected", log };
    if (lines.some((l) => /config version \d+ in service/.test(l))) return { verdict: "in service", log };
    if (Date.now() > deadline) throw new Error(`no verdict within ${OUTCOME_TIMEOUT_MS} ms; log since the write:\n${log.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.before(async () => {
  dir = await tempConfig({ ...BASE, "registry.yaml": serviceEntry("known", "known.default.svc.cluster.local", [{ address: echo.address }]) });
  gateway = await startGateway(dir);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

test(`random config writes for ${seconds} s (seed ${seed}): rejected whole or applied whole, never a crash or hang`, async () => {
  const files = corpus();
  const rng = prng(seed);
  const deadline = Date.now() + seconds * 1000;
  const verdicts = { rejected: 0, "in service": 0 };
  let count = 0;
  let exited: number | null | undefined;
  let current: string | null = null;
  void gateway.child.exited.then((code) => (exited = code));
  while (Date.now() < deadline) {
    count++;
    const base = files[Math.floor(rng() * files.length)];
    const { text, ops } = mutate(base.text, rng);
    if (text === current) continue; // no change to the file, nothing to reload
    current = text;
    const what = `input ${count} (seed ${seed}; ${base.path}; ${ops.join(", ")})`;
    const fail = async (message: string) => {
      const kept = `${here}regressions/reload-${seed}-${count}.yaml`;
      await platform.writeTextFile(kept, text);
      assert.unreachable(`${what}, kept as ${kept} (replay with DIETMESH_FUZZ_SEED=${seed}): ${message}`);
    };
    const before = await dump();
    let outcome;
    try {
      outcome = await write(text);
    } catch (error) {
      await fail((error as Error).message);
    }
    if (exited !== undefined) await fail(`the gateway exited (${exited}):\n${gateway.child.lines.slice(-30).join("\n")}`);
    const after = await dump();
    verdicts[outcome!.verdict]++;
    if (outcome!.verdict === "rejected") {
      if (after.version !== before.version) await fail(`rejected, yet the version went ${before.version} → ${after.version}`);
      if (JSON.stringify(after.config) !== JSON.stringify(before.config)) await fail("rejected, yet /config_dump's config changed");
      const r = await known();
      if (r.status !== 200 || r.config !== "base") await fail(`rejected, and the known route answers ${r.status} (x-config ${r.config})`);
    } else {
      if (!(after.version > before.version)) await fail(`in service, yet the version stayed ${after.version}`);
      const expected = istioResources(text);
      const got = fromFile(after, "fuzz.yaml");
      if (JSON.stringify(got) !== JSON.stringify(expected)) await fail(`in service, but the dump holds ${JSON.stringify(got)} of fuzz.yaml, the file has ${JSON.stringify(expected)}`);
      // back to the base config before the next input; the known route answers as before
      const removed = await write(null);
      current = null;
      if (removed.verdict !== "in service") await fail(`removing fuzz.yaml was rejected:\n${removed.log}`);
      const r = await known();
      if (r.status !== 200 || r.config !== "base") await fail(`after removing fuzz.yaml the known route answers ${r.status}`);
    }
  }
  console.log(`reload fuzz: seed ${seed}, ${count} writes, ${JSON.stringify(verdicts)}`);
  assert.ok(count >= 3, `only ${count} writes in ${seconds} s`);
  assert.ok(verdicts.rejected > 0, JSON.stringify(verdicts));
});

test.run();
