// An endpoint that answers invalid responses is ejected, as in Envoy, where a protocol error (502
// UPE) is a local-origin failure counted as a 5xx and as a gateway error (consecutive5xxErrors,
// consecutiveGatewayErrors) unless splitExternalLocalOriginErrors. Real invalid answers — a raw h2
// server's HEADERS without :status — through the HTTP/2 pool and one try (router/attempt.ts) each,
// into the outlier detector on a fake clock; the ejected host comes back after baseEjectionTime.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UpstreamTry } from "../../runtime/router/attempt.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { connectHttp2 } from "../../runtime/platform/http2-connect.ts";
import { createHttp2Pool } from "../../runtime/upstream/http2/index.ts";
import { createHost } from "../../runtime/resilience/balancers/index.ts";
import { createOutlierDetector } from "../../runtime/resilience/outlier-detector.ts";
import type { OutlierDetection } from "../../runtime/config/types.ts";
import type { ClusterState } from "../../runtime/upstream/cluster-state.ts";
import { END_HEADERS, END_STREAM, HEADERS, frame, literal, rawH2Server, type RawH2Server } from "../upstream/http2/raw-h2-server.ts";

let server: RawH2Server;
test.before(async () => {
  // every answer: a HEADERS frame without :status (a protocol error on both runtimes)
  server = await rawH2Server((id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, literal("content-type", "text/plain"))]);
});
test.after(() => server.close());

async function tries(settings: OutlierDetection, n: number) {
  const clock = createFakeClock();
  const bad = createHost({ address: "127.0.0.1", ports: {}, labels: {}, ready: true }, server.port);
  const others = [2, 3].map((i) => createHost({ address: `10.0.0.${i}`, ports: {}, labels: {}, ready: true }, 8080));
  const outlier = createOutlierDetector(settings, clock);
  outlier.setHosts([bad, ...others]);
  outlier.start();
  const pool = createHttp2Pool({ maxConnections: 1, maxPendingRequests: 8, maxRequestsPerConnection: 0, idleTimeoutMs: 60_000, connectTimeoutMs: 5000 }, { connect: connectHttp2 });
  const state = { pool, outlier, counters: { overflows: 0 } } as unknown as ClusterState;
  const codes: string[] = [];
  const healthyAfter: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const t = new UpstreamTry(state, bad, undefined, undefined, clock);
    try {
      t.responded(await t.send({ method: "GET", path: "/", headers: new Headers({ host: "bad.example" }), body: null }));
    } catch (error) {
      t.failed(error);
    }
    codes.push(t.failure?.code ?? "response");
    healthyAfter.push(bad.healthy);
  }
  pool.close();
  return { clock, bad, outlier, codes, healthyAfter };
}

test("consecutiveGatewayErrors 3: ejected on the third invalid response, back after baseEjectionTime", async () => {
  const { clock, bad, outlier, codes, healthyAfter } = await tries({ consecutiveGatewayErrors: 3, consecutive5xxErrors: 0, baseEjectionTime: 30_000, interval: 10_000 }, 3);
  assert.equal(codes, ["upstream-protocol", "upstream-protocol", "upstream-protocol"]);
  assert.equal(healthyAfter, [true, true, false]);
  clock.advance(40_000); // past baseEjectionTime, at an interval sweep
  assert.ok(bad.healthy, "unejected after baseEjectionTime");
  outlier.stop();
});

test("consecutive5xxErrors 5 (the default rule) counts them too", async () => {
  const { bad, outlier, healthyAfter } = await tries({ consecutive5xxErrors: 5, consecutiveGatewayErrors: 0 }, 5);
  assert.equal(healthyAfter, [true, true, true, true, false]);
  assert.not.ok(bad.healthy);
  outlier.stop();
});

test("splitExternalLocalOriginErrors: counted as local-origin failures, not as 5xx", async () => {
  const { bad, outlier, healthyAfter } = await tries({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2, consecutive5xxErrors: 1 }, 2);
  assert.equal(healthyAfter, [true, false], "the 5xx rule at 1 did not fire on the first; the local-origin rule at 2 did");
  assert.not.ok(bad.healthy);
  outlier.stop();
});

test.run();
