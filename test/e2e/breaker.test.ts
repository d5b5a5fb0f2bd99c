// End to end: the seed's circuit-breaker DestinationRule (maxConnections 1, http1MaxPendingRequests
// 1, maxRequestsPerConnection 1) through a real sidecar, with the upstream counting the TCP
// connections it really sees.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { startTestServer, type TestServer } from "../../runtime/platform/http1/test-server.ts";
import { root, serviceEntry, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

let upstream: TestServer;
let sidecar: Sidecar;

const plainRoute = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: alphabet-service }
spec:
  hosts: [alphabet-service]
  http:
  - route: [{ destination: { host: alphabet-service, subset: v1 } }]
    retries: { attempts: 0 }
`;

test.before(async () => {
  upstream = await startTestServer(async (_request, socket) => {
    await new Promise((r) => setTimeout(r, 150));
    await socket.respond(200, [["content-type", "text/plain"]], "Alfa");
  });
  const dir = await tempConfig({
    "dr.yaml": await platform.readTextFile(`${root}demo/alphabet/istio/alphabet-service-destination.yaml`),
    "vs.yaml": plainRoute,
    "se.yaml": serviceEntry("alphabet-service", "alphabet-service.default.svc.cluster.local", [{ address: upstream.address, labels: { version: "v1" } }]),
  });
  sidecar = await startSidecar(dir);
});

test.after(async () => {
  stopAll();
  await upstream.close();
});

async function send() {
  const started = performance.now();
  const res = await upstreamClient.send({ url: `http://${sidecar.outbound}/api/alphabet/a`, method: "GET", headers: new Headers({ host: "alphabet-service:8080" }), body: null });
  await res.text();
  return { status: res.status, flags: res.headers.get("x-dietmesh-response-flags") ?? "", ms: performance.now() - started };
}

/** `clients` loops sending `each` requests one after another, all at once */
async function load(clients: number, each: number) {
  const results: Awaited<ReturnType<typeof send>>[] = [];
  await Promise.all(Array.from({ length: clients }, async () => { for (let i = 0; i < each; i++) results.push(await send()); }));
  return results;
}

async function overflowCounter(): Promise<number> {
  const res = await upstreamClient.send({ url: `http://${sidecar.admin}/clusters`, method: "GET", headers: new Headers(), body: null });
  const clusters = JSON.parse(await res.text());
  return clusters.find((x: { name: string }) => x.name === "outbound|8080|v1|alphabet-service.default.svc.cluster.local").stats.overflows;
}

// As in Istio's circuit-breaking task: one connection, one pending slot, one request per
// connection. Two clients already overflow: while one client's request waits for the new
// connection it caused (pending, in Envoy's accounting) the other's next request finds the pending
// slot taken. The closing connection keeps its slot until the socket has really closed, so the
// limit holds on the wire.
for (const clients of [2, 3]) {
  test(`${clients} concurrent clients: part of the requests get 503 UO (no queueing timeout); the upstream sees one connection`, async () => {
    const before = await overflowCounter();
    const results = await load(clients, 8);
    const overflow = results.filter((r) => r.status === 503);
    assert.ok(overflow.length > 0, "some requests overflowed");
    assert.ok(overflow.every((r) => r.flags === "UO"), overflow.map((r) => r.flags).join(","));
    assert.ok(results.some((r) => r.status === 200), "and some got through");
    assert.ok(results.every((r) => r.status === 200 || r.status === 503), results.map((r) => r.status).join(","));
    assert.is(upstream.maxOpen, 1, "the upstream never saw two connections at once");
    assert.is((await overflowCounter()) - before, overflow.length, "/clusters counts each overflow");
  });
}

test.run();
