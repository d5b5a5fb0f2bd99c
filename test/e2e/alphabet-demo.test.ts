// End to end: the alphabet/spelling demo as `dietmesh demo` starts it beside hello-istio — the
// spelling service calling alphabet-, a-, b- and c-service through its sidecar (HTTP_PROXY), one
// gateway for both Hosts, live scenario switches, the load driver, and the "?" fallback when an
// upstream is down, and the demo's zero-trust setup (mesh-wide STRICT mTLS, an AuthorizationPolicy
// on alphabet-service).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, curl, eventually, root } from "../support/mesh.ts";

let demo: Child;
let gateway = "";
let gatewayAdmin = "";
let dir = "";
const workloads = new Map<string, { app: string; pid: string; inbound: string; outbound: string; admin: string }>();

const spelling = (word: string, extra: string[] = []) => curl(["-H", "Host: spelling.cloud", ...extra, `http://${gateway}/api/spelling?word=${encodeURIComponent(word)}`]);
async function spell(word: string, extra: string[] = []): Promise<string[]> {
  const r = await spelling(word, extra);
  assert.is(r.status, 200, r.body);
  return JSON.parse(r.body);
}
const helloVersion = async () => JSON.parse((await curl(["-H", "Host: hello-istio.cloud", `http://${gateway}/api/hello`])).body).version as string;

async function switchTo(...names: string[]) {
  const child = runScript(cli, ["demo", "switch", ...names, "--dir", dir]);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  // it returns once the gateway and the seven sidecars have loaded the change
  assert.ok(child.lines.includes("in service: all 8 proxies of the demo reloaded"), child.lines.join("\n"));
}

interface Dump {
  version: number;
  config: { virtualServices: { metadata: { name: string }; spec: { http: Record<string, any>[] } }[] };
}
async function dump(admin: string): Promise<Dump> {
  return JSON.parse((await curl([`http://${admin}/config_dump`])).body);
}
const firstRoute = (d: Dump, vs: string) => d.config.virtualServices.find((v) => v.metadata.name === vs)!.spec.http[0];

/** the app's own log lines (echoed by the launcher) that carry this request id */
const appLines = (id: string) => demo.lines.filter((l) => l.startsWith("[app ") && l.includes(`x-request-id ${id}`));

test.before(async () => {
  dir = await platform.makeTempDir("dietmesh-alphabet-");
  demo = runScript(cli, ["demo", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 60_000);
  [, gatewayAdmin] = await demo.waitFor(/^\s+gateway\s+port 80 on \S+\s+admin (\S+)/);
  for (const service of ["hello-istio", "spelling-service", "alphabet-service", "a-service", "b-service", "c-service"]) {
    const [, app, pid, inbound, outbound, admin] = await demo.waitFor(
      new RegExp(`^\\s+${service} v1\\s+app (\\S+) \\(pid (\\d+)\\)\\s+sidecar inbound (\\S+)\\s+outbound (\\S+)\\s+admin (\\S+)`),
    );
    workloads.set(service, { app, pid, inbound, outbound, admin });
  }
});

test.after(async () => {
  demo.kill("SIGTERM");
  await demo.exited;
  await platform.remove(dir);
  await platform.remove(`${dir}-ca`);
});

test("abc: a-, b- and c-service spell one letter each, and see the caller's x-request-id", async () => {
  assert.equal(await spell("abc", ["-H", "x-request-id: e2e-abc"]), ["Alfa", "Bravo", "Charlie"]);
  await eventually(async () => appLines("e2e-abc").length === 4, 5000, "the apps' log lines");
  const lines = appLines("e2e-abc");
  for (const [x, word] of [["a", "Alfa"], ["b", "Bravo"], ["c", "Charlie"]]) {
    assert.ok(lines.some((l) => l.startsWith(`[app ${x}-service v1] ${x}-service: ${x} → ${word} `)), `${x}-service: ${lines.join("\n")}`);
  }
  assert.not.ok(lines.some((l) => l.startsWith("[app alphabet-service")));
});

test("any other word: alphabet-service once per letter, in order, with the caller's x-request-id", async () => {
  assert.equal(await spell("Mesh", ["-H", "x-request-id: e2e-mesh", "-H", "x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7"]), ["Mike", "Echo", "Sierra", "Hotel"]);
  await eventually(async () => appLines("e2e-mesh").length === 5, 5000, "the apps' log lines");
  const calls = appLines("e2e-mesh").filter((l) => l.startsWith("[app alphabet-service v1] "));
  assert.equal(calls.map((l) => /: (\S+) → /.exec(l)![1]), ["M", "e", "s", "h"]);
  // one letter is a word too
  assert.equal(await spell("x"), ["X-ray"]);
});

test("Accept-Language: de spells with DIN 5009, the first language by preference", async () => {
  assert.equal(await spell("abc", ["-H", "Accept-Language: de"]), ["Anton", "Berta", "Cäsar"]);
  assert.equal(await spell("zug", ["-H", "Accept-Language: de-DE,de;q=0.9,en;q=0.8"]), ["Zacharias", "Ulrich", "Gustav"]);
  assert.equal(await spell("zug", ["-H", "Accept-Language: en-US,de;q=0.5"]), ["Zulu", "Uniform", "Golf"]);
  // alphabet-service answers 404 for a character its table lacks; the spelling service writes "?"
  assert.equal(await spell("bär", ["-H", "Accept-Language: de"]), ["Berta", "Ärger", "Richard"]);
  assert.equal(await spell("bär"), ["Bravo", "?", "Romeo"]);
});

test("a blank word is a bad request", async () => {
  assert.is((await spelling("")).status, 400);
});

/** the README's gRPC call: demo/alphabet/grpc-spell.mjs (@grpc/grpc-js, on Node) through the gateway */
async function grpcSpell(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = runCommand("node", [`${root}demo/alphabet/grpc-spell.mjs`, ...args]);
  const code = await child.exited;
  return { code, out: child.lines.join("\n") };
}

test("gRPC: alphabet.Alphabet/Spell through the gateway (alphabet.cloud, h2c) to alphabet-service's sidecar and app", async () => {
  const q = await grpcSpell(["--authority", "alphabet.cloud", "--request-id", "e2e-grpc", gateway, "q"]);
  assert.is(q.code, 0, q.out);
  assert.is(q.out, "Quebec");
  // the app answered it over gRPC (h2c from its sidecar), with the caller's x-request-id
  await eventually(async () => appLines("e2e-grpc").length === 1, 5000, "the app's log line");
  assert.match(appLines("e2e-grpc")[0], /^\[app alphabet-service v1\] alphabet-service: q → Quebec over gRPC /);
  // the request message's language field; and again, as the demo's DestinationRule retires each
  // connection after one request (maxRequestsPerConnection 1, maxConnections 1)
  assert.is((await grpcSpell(["--language", "de", gateway, "q"])).out, "Quelle");
  // a server's NOT_FOUND with its message reaches the client
  const missing = await grpcSpell([gateway, "%"]);
  assert.is(missing.code, 1, missing.out);
  assert.is(missing.out, 'ERROR: NOT_FOUND (5): no word for "%"');
  // HTTP/1.1 on the same app port still answers through the mesh (spelled via spelling-service)
  assert.equal(await spell("q"), ["Quebec"]);
});

test("hello-istio answers on the same gateway, and hello:NAME switches it like the bare name", async () => {
  assert.is(await helloVersion(), "1.0.1");
  await switchTo("hello:v2");
  await eventually(async () => (await helloVersion()) === "2.0.1", 5000, "hello:v2");
  await switchTo("v1");
  await eventually(async () => (await helloVersion()) === "1.0.1", 5000, "v1");
});

test("zero trust in the demo: every hop is mTLS (STRICT), and only spelling-service may call alphabet-service", async () => {
  const alphabet = workloads.get("alphabet-service")!;
  // spelling → alphabet over mTLS is allowed (spelled through alphabet-service)
  assert.equal(await spell("dm"), ["Delta", "Mike"]);
  // plaintext to a sidecar's inbound port: refused at the connection (mesh-wide STRICT)
  const plain = runCommand("curl", ["-s", "--max-time", "5", `http://${alphabet.inbound}/`]);
  assert.is.not(await plain.exited, 0, "plaintext reached a STRICT port");
  // a workload of the mesh with another identity: authenticated, then denied by the policy
  const cert = `${dir}-ca/intruder`;
  const issue = runScript(cli, ["ca", "issue", "--dir", `${dir}-ca`, "--namespace", "default", "--service-account", "intruder", "--out", cert]);
  assert.is(await issue.exited, 0, issue.lines.join("\n"));
  const mtls = ["-k", "--cert", `${cert}/cert-chain.pem`, "--key", `${cert}/key.pem`];
  const denied = await curl([...mtls, `https://${alphabet.inbound}/?letter=d`]);
  assert.is(denied.status, 403);
  assert.is(denied.body, "RBAC: access denied");
  // the same caller may call a-service, which has no AuthorizationPolicy
  assert.is((await curl([...mtls, `https://${workloads.get("a-service")!.inbound}/`])).status, 200);
  // the app sees the gateway's identity in X-Forwarded-Client-Cert
  const hello = await curl(["-H", "Host: hello-istio.cloud", `http://${gateway}/api/hello`]);
  assert.match(hello.headers["x-app-saw-xfcc"], /By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/hello-istio;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/istio-ingressgateway-service-account$/);
});

test("demo:load counts answers per status and flags, Host kept", async () => {
  const load = runScript(`${root}demo/load.ts`, ["--concurrency", "2", "--requests", "12", "--host", "spelling.cloud", "--gateway", gateway]);
  assert.is(await load.exited, 0, load.lines.join("\n"));
  // two at a time may trip a-service's breaker (the seed's maxConnections 1, one pending): the
  // spelling service then answers "?" for that letter, still 200
  assert.is(load.lines.filter((l) => /^\s+\d+\s+200\s+-\s+\d+ ms\s+\["(Alfa|\?)","(Bravo|\?)","(Charlie|\?)"\]$/.test(l)).length, 12, load.lines.join("\n"));
  assert.ok(load.lines.some((l) => /^\s+200 -\s+:\s+12 \(100\.0 %\)$/.test(l)), load.lines.join("\n"));
  const miss = runScript(`${root}demo/load.ts`, ["--requests", "3", "--host", "nowhere.cloud", "--gateway", gateway, "--quiet"]);
  assert.is(await miss.exited, 0, miss.lines.join("\n"));
  assert.ok(miss.lines.some((l) => /^\s+404 NR\s+:\s+3 \(100\.0 %\)$/.test(l)), miss.lines.join("\n"));
  const bad = runScript(`${root}demo/load.ts`, ["--requests", "0"]);
  assert.is(await bad.exited, 2);
});

test("each scenario reloads the caller's sidecar (it applies the VirtualService) and the gateway", async () => {
  const spellingAdmin = workloads.get("spelling-service")!.admin;
  const cases: [string, (d: Dump) => boolean][] = [
    ["alphabet:retries", (d) => firstRoute(d, "alphabet-service").retries?.attempts === 3 && firstRoute(d, "alphabet-service").retries?.perTryTimeout === 1000],
    ["alphabet:delay", (d) => firstRoute(d, "alphabet-service").fault?.delay?.fixedDelay === 2000 && !firstRoute(d, "alphabet-service").fault?.abort],
    ["alphabet:fault", (d) => firstRoute(d, "alphabet-service").fault?.abort?.httpStatus === 500 && firstRoute(d, "alphabet-service").fault?.delay?.percent === 50],
    ["abc:timeout", (d) => ["a", "b", "c"].every((x) => firstRoute(d, `${x}-service`).timeout === 1000)],
    ["b:none", (d) => firstRoute(d, "a-service").timeout === 1000 && firstRoute(d, "b-service").timeout === undefined],
    ["abc:none", (d) => ["a", "b", "c"].every((x) => firstRoute(d, `${x}-service`).timeout === undefined)],
    ["alphabet:plain", (d) => !firstRoute(d, "alphabet-service").fault && !firstRoute(d, "alphabet-service").retries],
  ];
  for (const [name, holds] of cases) {
    const before = (await dump(spellingAdmin)).version;
    const gatewayBefore = (await dump(gatewayAdmin)).version;
    await switchTo(name);
    await eventually(async () => {
      const d = await dump(spellingAdmin);
      return d.version > before && holds(d);
    }, 5000, `${name} in the spelling sidecar`);
    await eventually(async () => (await dump(gatewayAdmin)).version > gatewayBefore, 5000, `${name}: the gateway reloads`);
    // the 1 s route timeout is enforced today, and the apps answer at once
    if (name === "abc:timeout") assert.equal(await spell("abc"), ["Alfa", "Bravo", "Charlie"]);
  }
  // back at the base state: spelling works again (generous: an outlier ejection may still run)
  await eventually(async () => JSON.stringify(await spell("mesh")) === '["Mike","Echo","Sierra","Hotel"]', 15_000, "plain spelling");
});

test("a-service's app stopped: abc falls back to \"?\" for a at once, the rest keeps working", async () => {
  const { pid } = workloads.get("a-service")!;
  const kill = runCommand("kill", ["-TERM", pid]);
  assert.is(await kill.exited, 0);
  await demo.waitFor(/a-service v1's app exited/, 5000);
  const started = Date.now();
  // its sidecar answers 503 quickly; the spelling service treats any non-200 as "?"
  assert.equal(await spell("abc"), ["?", "Bravo", "Charlie"]);
  assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
  assert.equal(await spell("aa"), ["Alfa", "Alfa"]); // other words go to alphabet-service
  assert.is(await helloVersion(), "1.0.1");
  assert.ok(!demo.lines.some((l) => l.includes("stopping the rest")), "the demo keeps running");
});

test.run();
