// End to end, `dietmesh demo --library spelling` (issue 16 item 4): the spelling service runs with the
// mesh in process — no sidecar — among sidecar workloads. The demo's mesh is mesh-wide STRICT and
// only spelling-service may call alphabet-service, so a spelled word proves both directions are
// mTLS with the library's own identity: the gateway's sidecar-less call into the library's
// listener, and the library's calls out (abc to a-, b-, c-service; other words to alphabet-service).
// The peers' identities are then read where Istio's metrics put them (the library's own and
// alphabet-service's sidecar's, on their admin listeners), the gateway's dashboard draws the library
// like any sidecar workload, and `demo switch` waits for the library's reload too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, curl } from "../support/mesh.ts";
import type { Snapshot } from "../../runtime/telemetry/dashboard-snapshot.ts";

let demo: Child;
let dir: string;
let gateway: string;
/** admin listeners from the launcher's table: the library's (mesh.listenAdmin), alphabet-service's sidecar's, the gateway's */
const admin = { library: "", alphabet: "", gateway: "" };

const spell = async (word: string) => {
  const r = await curl(["-H", "Host: spelling.cloud", `http://${gateway}/api/spelling?word=${word}`]);
  assert.is(r.status, 200, r.body);
  return JSON.parse(r.body) as string[];
};

test.before(async () => {
  dir = await platform.makeTempDir("dietmesh-libdemo-");
  demo = runScript(cli, ["demo", "--library", "spelling", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 60_000);
  const find = (pattern: RegExp) => demo.lines.map((l) => pattern.exec(l)?.[1]).find(Boolean) ?? "";
  admin.library = find(/^\s+spelling-service v1\s+mesh in process .* admin (\S+)$/);
  admin.alphabet = find(/^\s+alphabet-service v1\s+app .* admin (\S+)$/);
  admin.gateway = find(/^\s+gateway\s+port 80 on \S+\s+admin (\S+)/);
});

/** the istio_requests_total series with these labels, summed (0 when there is none) */
async function requests(adminAddress: string, labels: Record<string, string>): Promise<number> {
  const r = await curl([`http://${adminAddress}/stats/prometheus`]);
  assert.is(r.status, 200, r.body);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return r.body.split("\n")
    .filter((l) => l.startsWith("istio_requests_total{") && wanted.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

test.after(async () => {
  demo.kill("SIGTERM");
  await demo.exited;
  await platform.remove(dir);
  await platform.remove(`${dir}-ca`);
});

test("the launcher says spelling-service runs with the mesh in process, with an mTLS inbound", async () => {
  assert.ok(demo.lines.some((l) => /^\s+spelling-service v1\s+mesh in process \(pid \d+, no sidecar\)\s+inbound \S+ \(mTLS\)/.test(l)), demo.lines.join("\n"));
  assert.not.ok(demo.lines.some((l) => l.startsWith("[sidecar spelling-service")), "no sidecar for spelling-service");
  assert.ok(admin.library && admin.alphabet && admin.gateway, `admin listeners in the table:\n${demo.lines.join("\n")}`);
  const ready = await curl([`http://${admin.library}/ready`]);
  assert.is(ready.status, 200, ready.body);
});

test("abc through the gateway: the library calls a-, b- and c-service over mTLS", async () => {
  assert.equal(await spell("abc"), ["Alfa", "Bravo", "Charlie"]);
});

test("another word: the library calls alphabet-service, which admits only spelling-service's identity", async () => {
  assert.equal(await spell("mesh"), ["Mike", "Echo", "Sierra", "Hotel"]);
});

test("the library's metrics: the gateway's SPIFFE ID came in over mTLS; its calls out went as spelling-service", async () => {
  const inbound = await requests(admin.library, {
    reporter: "destination", destination_app: "spelling-service", response_code: "200",
    source_principal: "spiffe://cluster.local/ns/default/sa/istio-ingressgateway-service-account", connection_security_policy: "mutual_tls",
  });
  assert.ok(inbound >= 2, `the gateway's two calls, seen over mTLS: ${inbound}`);
  const outbound = await requests(admin.library, {
    reporter: "source", source_principal: "spiffe://cluster.local/ns/default/sa/spelling-service",
    destination_principal: "spiffe://cluster.local/ns/default/sa/alphabet-service", response_code: "200",
  });
  assert.ok(outbound >= 4, `one call per letter of "mesh", to alphabet-service's identity: ${outbound}`);
});

test("alphabet-service's sidecar saw the library's SPIFFE ID over mTLS", async () => {
  const seen = await requests(admin.alphabet, {
    reporter: "destination", destination_app: "alphabet-service", response_code: "200",
    source_principal: "spiffe://cluster.local/ns/default/sa/spelling-service", source_app: "spelling-service", connection_security_policy: "mutual_tls",
  });
  assert.ok(seen >= 4, `one call per letter of "mesh": ${seen}`);
});

test("the gateway's dashboard reads the library like a sidecar and draws its calls, mTLS", async () => {
  const r = await curl([`http://${admin.gateway}/dashboard/snapshot.json`]);
  assert.is(r.status, 200, r.body);
  const snapshot = JSON.parse(r.body) as Snapshot;
  const source = snapshot.sources.find((s) => s.origin === admin.library);
  assert.ok(source, `the library's admin listener is one of the dashboard's sources: ${JSON.stringify(snapshot.sources)}`);
  assert.is(source.name, "spelling-service");
  assert.ok(source.ok, source.error);
  const node = snapshot.nodes.find((n) => n.id === "svc:spelling-service.default");
  assert.ok(node, JSON.stringify(snapshot.nodes));
  assert.is(node.mtls, "mutual_tls", "inbound security as the library reported it");
  assert.ok(node.in.requests >= 2, `requests into the library: ${node.in.requests}`);
  const edge = (from: string, to: string) => snapshot.edges.find((e) => e.from === `svc:${from}.default` && e.to === `svc:${to}.default`);
  const out = edge("spelling-service", "alphabet-service");
  assert.ok(out && out.requests >= 4 && out.mtls === "mutual_tls", `spelling-service → alphabet-service: ${JSON.stringify(snapshot.edges)}`);
  const into = edge("istio-ingressgateway", "spelling-service");
  assert.ok(into && into.requests >= 2 && into.mtls === "mutual_tls", `gateway → spelling-service: ${JSON.stringify(snapshot.edges)}`);
});

test("demo switch waits for the library's reload too (its admin listener reports the config version)", async () => {
  const switched = runScript(cli, ["demo", "switch", "--dir", dir, "alphabet:retries"]);
  assert.is(await switched.exited, 0, switched.lines.join("\n"));
  assert.ok(switched.lines.some((l) => /all 8 proxies of the demo reloaded/.test(l)), switched.lines.join("\n"));
  assert.equal(await spell("mtls"), ["Mike", "Tango", "Lima", "Sierra"]);
});

test.run();
