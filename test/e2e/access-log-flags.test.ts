// End to end: the access log carries the right response flag for each failure the resilience
// layer produces — NR, UH, UF, UT, UO, DI and FI — through one real sidecar with --access-log json.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { eventually, serviceEntry, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

let sidecar: Sidecar;
const slow = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Promise((r) => setTimeout(() => r(new Response("slow")), 400)) });
const fast = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("fast") });

function vs(name: string, extra: string, subset = ""): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
  - route: [{ destination: { host: ${name}${subset ? `, subset: ${subset}` : ""} } }]
    retries: { attempts: 0 }
${extra}`;
}

test.before(async () => {
  const dead = await closedPort();
  const files: Record<string, string> = {
    "uh.yaml": serviceEntry("uh", "uh.default.svc.cluster.local", [{ address: `127.0.0.1:${fast.port}`, labels: { version: "v1" } }]) +
      "---\n" + vs("uh", "", "v9") +
      "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: uh }\nspec:\n  host: uh\n  subsets: [{ name: v9, labels: { version: v9 } }]\n",
    "uf.yaml": serviceEntry("uf", "uf.default.svc.cluster.local", [{ address: `127.0.0.1:${dead}` }]) + "---\n" + vs("uf", ""),
    "ut.yaml": serviceEntry("ut", "ut.default.svc.cluster.local", [{ address: `127.0.0.1:${slow.port}` }]) + "---\n" + vs("ut", "    timeout: 100ms\n"),
    "uo.yaml": serviceEntry("uo", "uo.default.svc.cluster.local", [{ address: `127.0.0.1:${slow.port}` }]) + "---\n" + vs("uo", "") +
      "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: uo }\nspec:\n  host: uo\n  trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } }\n",
    "fi.yaml": serviceEntry("fi", "fi.default.svc.cluster.local", [{ address: `127.0.0.1:${fast.port}` }]) + "---\n" +
      vs("fi", "    fault: { delay: { fixedDelay: 10ms, percentage: { value: 100 } }, abort: { httpStatus: 418, percentage: { value: 100 } } }\n"),
  };
  files["ok.yaml"] = serviceEntry("ok", "ok.default.svc.cluster.local", [{ address: `127.0.0.1:${fast.port}` }]) + "---\n" + vs("ok", "");
  sidecar = await startSidecar(await tempConfig(files), ["--access-log", "json"]);
});

test.after(async () => {
  stopAll();
  await slow.stop(true);
  await fast.stop(true);
});

async function send(host: string, id: string) {
  const res = await upstreamClient.send({
    url: `http://${sidecar.outbound}/x`,
    method: "GET",
    headers: new Headers({ host: `${host}:8080`, "x-request-id": id }),
    body: null,
  });
  await res.text();
  return res.status;
}

async function logged(id: string): Promise<{ response_code: number; response_flags: string }> {
  const line = await eventually(async () => sidecar.child.lines.find((l) => l.startsWith("{") && l.includes(`"${id}"`)), 5000, `log line ${id}`);
  return JSON.parse(line);
}

const cases: [string, string, number, string][] = [
  ["nowhere", "id-nr", 404, "NR"],
  ["uh", "id-uh", 503, "UH"],
  ["uf", "id-uf", 503, "UF"],
  ["ut", "id-ut", 504, "UT"],
  ["fi", "id-fi", 418, "DI,FI"],
];

for (const [host, id, status, flags] of cases) {
  test(`${flags}: ${host} answers ${status} and the access log says ${flags}`, async () => {
    assert.is(await send(host, id), status);
    const entry = await logged(id);
    assert.is(entry.response_code, status);
    assert.is(entry.response_flags, flags);
  });
}

test("UO: three at once against one connection and one pending slot", async () => {
  const statuses = await Promise.all(["id-uo-1", "id-uo-2", "id-uo-3"].map((id) => send("uo", id)));
  // one goes through; of the other two, one may wait in the queue if a connection was already
  // open, or both overflow if the first one had to open it (it counts as pending meanwhile)
  const ok = statuses.filter((s) => s === 200).length;
  assert.ok(ok >= 1 && ok <= 2 && statuses.every((s) => s === 200 || s === 503), statuses.join(","));
  const entries = await Promise.all(["id-uo-1", "id-uo-2", "id-uo-3"].map(logged));
  assert.equal(entries.filter((e) => e.response_code === 503).map((e) => e.response_flags), Array(3 - ok).fill("UO"));
  // Istio's JSON log writes "-" when a response carries no flag
  assert.equal(entries.filter((e) => e.response_code === 200).map((e) => e.response_flags), Array(ok).fill("-"));
});

test("upstream_service_time: whole ms from the answering try to its head on the outbound side; null when no upstream answered", async () => {
  assert.is(await send("ok", "id-ok"), 200);
  const ok = (await logged("id-ok")) as unknown as { upstream_service_time: string | null; duration: number };
  assert.match(String(ok.upstream_service_time), /^\d+$/);
  assert.is((ok as unknown as { downstream_local_address: string }).downstream_local_address, sidecar.outbound, "the listener's end of the connection");
  assert.ok(Number(ok.upstream_service_time) <= ok.duration, `${ok.upstream_service_time} within the request's ${ok.duration} ms`);
  const uf = (await logged("id-uf")) as unknown as { upstream_service_time: string | null };
  assert.is(uf.upstream_service_time, null);
});

test.run();
