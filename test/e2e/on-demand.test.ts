// A real sidecar in a mesh above the on-demand size (issue 11, model/on-demand.ts): before any
// request nothing is compiled and /config_dump says so; a request compiles its host (routes and
// clusters) and /config_dump says why; a reload in service carries used hosts over — the
// unchanged one shared, the changed one compiled again with its new route — and an unknown host
// still gets 404 NR.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { ON_DEMAND_ABOVE } from "../../runtime/model/compile.ts";
import { curl, eventually, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const echo = startEcho("svc");
const SERVICES = ON_DEMAND_ABOVE + 50;
let dir = "";
let sidecar: Sidecar;

const host = (i: number) => `svc-${i}.default.svc.cluster.local`;
const vs = (config: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc-7 }
spec:
  hosts: [svc-7]
  http:
  - headers: { response: { set: { x-config: ${config} } } }
    route: [{ destination: { host: svc-7 } }]
`;
type Dump = { version: number; onDemand?: { hosts: number; compiled: { host: string; why: string }[] }; clusters: { name: string }[] };
const dump = async () => JSON.parse((await curl([`http://${sidecar.admin}/config_dump`])).body) as Dump;
const call = (name: string) => curl(["-H", `Host: ${name}:8080`, `http://${sidecar.outbound}/`]);

test.before(async () => {
  const services = Array.from({ length: SERVICES }, (_, i) => serviceEntry(`svc-${i}`, host(i), [{ address: echo.address }]));
  dir = await tempConfig({ "services.yaml": services.join("---\n"), "route.yaml": vs("one") });
  sidecar = await startSidecar(dir);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

test("nothing compiled before a request; a request compiles its host and /config_dump says why", async () => {
  const before = await dump();
  assert.equal(before.onDemand, { hosts: SERVICES, compiled: [] });
  assert.equal(before.clusters, []);

  const plain = await call("svc-3");
  assert.is(plain.status, 200);
  assert.is(plain.headers["x-echo"], "svc");
  const routed = await call("svc-7.default");
  assert.is(routed.headers["x-config"], "one", "the VirtualService's route");

  const after = await dump();
  assert.equal(after.onDemand!.compiled, [
    { host: host(3), why: "first request for svc-3" },
    { host: host(7), why: "first request for svc-7.default" },
  ]);
  assert.equal(after.clusters.map((c) => c.name).sort(), [`outbound|8080||${host(3)}`, `outbound|8080||${host(7)}`]);
});

test("a reload carries the used hosts over: the unchanged one shared, the changed one with its new route", async () => {
  const { version } = await dump();
  await platform.writeTextFile(`${dir}/route.yaml`, vs("two"));
  await eventually(async () => (await call("svc-7")).headers["x-config"] === "two", 10_000, "the new route in service");
  const now = await dump();
  assert.ok(now.version > version);
  const why = Object.fromEntries(now.onDemand!.compiled.map((c) => [c.host, c.why]));
  assert.is(why[host(3)], "first request for svc-3; shared with the previous table");
  assert.is(why[host(7)], "first request for svc-7.default", "compiled again: its VirtualService changed");
  assert.ok(now.clusters.some((c) => c.name === `outbound|8080||${host(3)}`), "its cluster (and its state) stayed");
});

test("an unknown host: 404 NR, as in a small mesh", async () => {
  const r = await call("nothing");
  assert.is(r.status, 404);
  assert.is(r.headers["x-dietmesh-response-flags"], "NR");
});

test.run();
