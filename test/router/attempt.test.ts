// One try (router/attempt.ts), awaited by the router itself since issue 10 folded sendTry's async
// step away: what it sends (the target apart from the URL, the abort signal only when a timeout can
// fire), and its accounting — host.active and the per-try timer released exactly once however it
// ends, the route's abort listener released on demand, the outlier detector fed once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UpstreamTry } from "../../runtime/router/attempt.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { UpstreamError, type UpstreamRequest } from "../../runtime/platform/types.ts";
import type { ClusterState } from "../../runtime/upstream/cluster-state.ts";
import type { UpstreamHost } from "../../runtime/resilience/balancers/host-set.ts";
import { MeshResponse } from "../../runtime/exchange/response.ts";

function fixture(answer: (request: UpstreamRequest) => Promise<MeshResponse>, outlierThrows = false) {
  const sent: UpstreamRequest[] = [];
  const fed: unknown[] = [];
  const state = {
    pool: { send: (_address: string, request: UpstreamRequest) => (sent.push(request), answer(request)) },
    outlier: {
      record(_host: unknown, what: unknown) {
        fed.push(what);
        if (outlierThrows && (what as { status?: number }).status) throw new Error("outlier failed");
      },
    },
    counters: { overflows: 0 },
  } as unknown as ClusterState;
  const host = { address: "10.0.0.1:8080", active: 0 } as unknown as UpstreamHost;
  return { state, host, sent, fed };
}

const request = { method: "GET", path: "/a?b=1", headers: new Headers({ host: "x" }), body: null };
const ok = () => Promise.resolve(new MeshResponse(200, "OK", new Headers({ "grpc-status": "0" }), null));

async function run(t: UpstreamTry): Promise<void> {
  try {
    t.responded(await t.send(request));
  } catch (error) {
    t.failed(error);
  }
}

test("a response: target sent apart from the URL, no abort signal without a timeout, active back to 0", async () => {
  const f = fixture(ok);
  const clock = createFakeClock();
  const t = new UpstreamTry(f.state, f.host, undefined, undefined, clock);
  const pending = t.send(request);
  assert.is(f.host.active, 1, "active while in flight");
  t.responded(await pending);
  assert.is(f.host.active, 0);
  assert.is(f.sent[0].url, "http://10.0.0.1:8080/a?b=1");
  assert.is(f.sent[0].target, "/a?b=1");
  assert.is(f.sent[0].signal, undefined);
  const { headers, ...outcome } = t.outcome as { headers?: Headers };
  assert.equal(outcome, { kind: "response", status: 200, grpcStatus: "0" });
  assert.is(headers?.get("grpc-status"), "0", "the response's headers, for retryOn envoy-ratelimited");
  assert.equal(f.fed, [{ status: 200 }]);
  assert.is(clock.pending(), 0);
});

test("a failure is classified and fed as local origin; the per-try timer is cleared", async () => {
  const f = fixture(() => Promise.reject(new UpstreamError("connect", "refused")));
  const clock = createFakeClock();
  const t = new UpstreamTry(f.state, f.host, 1000, undefined, clock);
  assert.is(clock.pending(), 1, "per-try timer armed");
  await run(t);
  assert.is(f.host.active, 0);
  assert.is(clock.pending(), 0, "per-try timer cleared");
  assert.ok(t.failure, "classified");
  assert.is(t.response, undefined);
  assert.is(t.message, "refused");
  assert.is(f.fed.length, 1);
});

test("the outlier detector throwing on a response: a bug propagates (as before), active is released once, not twice", async () => {
  const f = fixture(ok, true);
  const t = new UpstreamTry(f.state, f.host, undefined, undefined, createFakeClock());
  let thrown: unknown;
  try {
    await run(t);
  } catch (error) {
    thrown = error;
  }
  assert.is((thrown as Error)?.message, "outlier failed", "not classified as an upstream failure");
  assert.is(f.host.active, 0, "released exactly once");
  assert.is(t.response, undefined);
});

test("the route's abort aborts the try's signal until released; the per-try timeout aborts it too", async () => {
  const clock = createFakeClock();
  const route = new AbortController();
  const f = fixture((req) => new Promise((_, reject) => req.signal!.addEventListener("abort", () => reject(new UpstreamError("aborted", "aborted")))));
  const t = new UpstreamTry(f.state, f.host, undefined, route.signal, clock);
  const done = run(t);
  route.abort();
  await done;
  assert.ok(f.sent[0].signal!.aborted, "route abort reached the try");
  assert.is(f.host.active, 0);

  const route2 = new AbortController();
  const t2 = new UpstreamTry(f.state, f.host, undefined, route2.signal, clock);
  const released = t2.send(request);
  t2.release();
  route2.abort();
  assert.not.ok(f.sent[1].signal!.aborted, "a released try no longer listens to the route");
  void released.catch(() => {});

  const t3 = new UpstreamTry(f.state, f.host, 50, undefined, clock);
  const timed = run(t3);
  clock.advance(50);
  await timed;
  assert.ok(f.sent[2].signal!.aborted, "per-try timeout aborted the try");
  assert.is(clock.pending(), 0);
});

test.run();
