// End to end: `dietmesh demo` as a user runs it — two hello-istio versions behind sidecars and a
// gateway — checked with curl, a 1,000-request split, and live switching under load.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, curl, eventually, root } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

let demo: Child;
let gateway = "";
let dir = "";

const hello = (extra: string[] = []) => curl(["-H", "Host: hello-istio.cloud", ...extra, `http://${gateway}/api/hello`]);
const versionOf = async (extra: string[] = []) => JSON.parse((await hello(extra)).body).version as string;

async function switchTo(name: string) {
  const child = runScript(cli, ["demo", "switch", name, "--dir", dir]);
  assert.is(await child.exited, 0, child.lines.join("\n"));
}

// the platform's client, because Deno's fetch would replace the Host header
async function fetchVersion(): Promise<{ status: number; version?: string }> {
  const res = await upstreamClient.send({ url: `http://${gateway}/api/hello`, method: "GET", headers: new Headers({ host: "hello-istio.cloud" }), body: null });
  const text = await res.text();
  return { status: res.status, version: res.status === 200 ? JSON.parse(text).version : undefined };
}

test.before(async () => {
  dir = await platform.makeTempDir("dietmesh-demo-");
  demo = runScript(cli, ["demo", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 60_000);
});

test.after(async () => {
  demo.kill("SIGTERM");
  await demo.exited;
  await platform.remove(dir);
  await platform.remove(`${dir}-ca`);
});

test("all v1 by default: curl through the gateway answers from v1", async () => {
  const r = await hello();
  assert.is(r.status, 200);
  assert.equal(JSON.parse(r.body), { message: "Hello Istio.", version: "1.0.1" });
});

test("a WebSocket on /api/hello through the gateway and v1's sidecar (mTLS): the greeting and the echo come from v1", async () => {
  // a real client (the ws package under Node), routed by the seed's unchanged VirtualService
  const client = runCommand("node", [`${root}test/support/ws-peer.mjs`, "greet", `ws://${gateway}/api/hello`, "hello-istio.cloud"]);
  const code = await client.exited;
  assert.is(code, 0, client.lines.join(" | "));
  const texts = client.lines.filter((l) => l.startsWith("text ")).map((l) => JSON.parse(l.slice(5)));
  assert.equal(texts, [{ message: "Hello Istio.", version: "1.0.1" }, { version: "1.0.1", echo: "ping" }]);
  assert.ok(client.lines.includes("closed 1000"), client.lines.join(" | "));
});

test("a Host the gateway does not serve gets 404 NR", async () => {
  const r = await curl(["-H", "Host: other.cloud", `http://${gateway}/api/hello`]);
  assert.is(r.status, 404);
});

test("all v2 after switching files, without a restart", async () => {
  await switchTo("v2");
  await eventually(async () => (await versionOf()) === "2.0.1", 15000, "v2");
});

test("25/75 (the seed's hello-istio-75-25.yaml): 1,000 requests split within ±4 points", async () => {
  await switchTo("75-25");
  // wait until the new table serves: both versions seen
  const seen = new Set<string>();
  await eventually(async () => { seen.add((await fetchVersion()).version!); return seen.size === 2; }, 15000, "both versions");
  let v2 = 0;
  for (let i = 0; i < 1000; i++) if ((await fetchVersion()).version === "2.0.1") v2++;
  // that file gives v1 weight 25 and v2 weight 75
  assert.ok(Math.abs(v2 / 10 - 75) <= 4, `v2 share ${v2 / 10}%`);
});

test("user-agent .*Chrome.* reaches v2, others v1 (with curl)", async () => {
  await switchTo("user-agent");
  await eventually(async () => (await versionOf(["-A", "curl"])) === "1.0.1", 15000, "user-agent config");
  assert.is(await versionOf(["-A", "Mozilla/5.0 (X11) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"]), "2.0.1");
  assert.is(await versionOf(["-A", "Mozilla/5.0 Firefox/120.0"]), "1.0.1");
});

test("cookie user=leander reaches v2, others v1 (with curl)", async () => {
  await switchTo("user-cookie");
  await eventually(async () => (await versionOf(["-b", "user=leander"])) === "2.0.1", 15000, "cookie config");
  assert.is(await versionOf(["-b", "theme=dark;user=leander"]), "2.0.1");
  assert.is(await versionOf(["-b", "user=someoneelse"]), "1.0.1");
  assert.is(await versionOf(), "1.0.1");
});

test("switching under load fails no request", async () => {
  await switchTo("v1");
  await eventually(async () => (await versionOf(["-A", "Chrome"])) === "1.0.1", 15000, "v1");
  let stop = false;
  const failures: string[] = [];
  const versions = new Set<string>();
  let count = 0;
  const worker = async () => {
    while (!stop) {
      try {
        const r = await fetchVersion();
        count++;
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else versions.add(r.version!);
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  for (const name of ["50-50", "v2", "25-75", "v1", "v2"]) {
    await switchTo(name);
    await new Promise((r) => setTimeout(r, 150)); // let load run across each switch
  }
  await eventually(async () => versions.has("2.0.1") && versions.has("1.0.1"), 15000, "both versions under load");
  stop = true;
  await Promise.all(workers);
  assert.ok(count > 50, `only ${count} requests ran`);
  assert.equal(failures, []);
});

test.run();
