// Outlier detection: which results count towards which rule, counter resets, the deprecated
// field, host-set changes, and the settings Istio leaves to Envoy's defaults.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHost } from "../../runtime/resilience/balancers/index.ts";
import { compileOutlierSettings } from "../../runtime/resilience/outlier-settings.ts";
import { at, hosts, S, setup } from "./outlier-fixture.ts";

test("deprecated consecutiveErrors counts gateway errors only", () => {
  const { hs, hit } = setup({ consecutiveErrors: 2 }, 3);
  hit(hs[0], { status: 500 }, 20);
  assert.ok(hs[0].healthy, "the 5xx rule is off");
  hit(hs[0], { status: 502 }, 2);
  assert.not.ok(hs[0].healthy);
  assert.equal(
    [compileOutlierSettings({ consecutiveErrors: 2, consecutive5xxErrors: 7 }).consecutive5xx, compileOutlierSettings({ consecutiveErrors: 2 }).consecutiveGateway],
    [7, 2],
  );
});

test("local-origin failures count as gateway errors (and as 5xx)", () => {
  const gw = setup({ consecutiveGatewayErrors: 3, consecutive5xxErrors: 0 }, 3);
  gw.hit(gw.hs[0], { localOrigin: "connect-failure" });
  gw.hit(gw.hs[0], { localOrigin: "reset" });
  assert.ok(gw.hs[0].healthy);
  gw.hit(gw.hs[0], { localOrigin: "timeout" });
  assert.not.ok(gw.hs[0].healthy);
  gw.hit(gw.hs[1], { status: 500 }, 10); // a plain 500 is no gateway error
  assert.ok(gw.hs[1].healthy);
  const dflt = setup({}, 3);
  dflt.hit(dflt.hs[0], { localOrigin: "connect-failure" }, 5);
  assert.not.ok(dflt.hs[0].healthy, "the default 5xx rule sees them too");
});

test("splitExternalLocalOriginErrors counts local failures apart", () => {
  const { hs, hit, state } = setup({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2, consecutiveGatewayErrors: 1, maxEjectionPercent: 100 }, 3);
  hit(hs[0], { localOrigin: "connect-failure" });
  assert.equal([state(hs[0]).consecutiveLocalOrigin, state(hs[0]).consecutiveGateway], [1, 0]);
  hit(hs[0], { status: 200 }); // connected fine: the local count restarts
  hit(hs[0], { localOrigin: "timeout" });
  assert.ok(hs[0].healthy);
  hit(hs[0], { localOrigin: "reset" });
  assert.not.ok(hs[0].healthy);
  hit(hs[1], { status: 503 }); // HTTP errors still count on their own
  assert.not.ok(hs[1].healthy);
});

test("a success resets the consecutive counts", () => {
  const { hs, hit, state } = setup({ consecutiveGatewayErrors: 3 }, 3);
  hit(hs[0], { status: 500 }, 4);
  hit(hs[0], { status: 200 });
  hit(hs[0], { status: 500 }, 4);
  assert.ok(hs[0].healthy);
  hit(hs[1], { status: 502 }, 2);
  hit(hs[1], { status: 500 }); // a non-gateway 5xx breaks the gateway run, not the 5xx run
  assert.equal([state(hs[1]).consecutiveGateway, state(hs[1]).consecutive5xx], [0, 3]);
  hit(hs[1], { status: 404 }); // 4xx is the upstream working
  assert.equal([state(hs[1]).consecutiveGateway, state(hs[1]).consecutive5xx], [0, 0]);
  hit(hs[0], { status: 500 });
  assert.not.ok(hs[0].healthy);
});

test("state is kept by address across setHosts", () => {
  const { clock, hs, hit, d, state } = setup({ consecutive5xxErrors: 1, maxEjectionPercent: 100 }, 3);
  hit(hs[0], { status: 500 });
  hit(hs[2], { status: 500 }); // a host that then leaves: its ejection goes with it
  const fresh = [...hosts(2), createHost({ address: "10.0.0.9", ports: {}, labels: {}, ready: true }, 8080)];
  d.setHosts(fresh);
  assert.equal(fresh.map((h) => h.healthy), [false, true, true], "new objects, same address, still ejected");
  assert.equal(d.snapshot().map((s) => s.address), ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.9:8080"]);
  assert.is(state(fresh[0]).ejectionCount, 1);
  d.record(hs[1], { status: 500 }); // an old object for a kept address still counts
  assert.not.ok(fresh[1].healthy);
  at(clock, 30 * S);
  assert.equal(fresh.map((h) => h.healthy), [true, true, true]);
  d.record(createHost({ address: "10.9.9.9", ports: {}, labels: {}, ready: true }, 1), { status: 500 }); // unknown: ignored
});

test("no outlierDetection: nothing is ever ejected and no timer runs", () => {
  const { clock, hs, hit, d } = setup(undefined, 2);
  hit(hs[0], { status: 503 }, 100);
  hit(hs[0], { localOrigin: "connect-failure" }, 100);
  assert.ok(hs[0].healthy);
  assert.is(clock.pending(), 0);
  assert.not.ok(d.panic());
});

test("consecutive5xxErrors 0 turns the 5xx rule off", () => {
  const { hs, hit } = setup({ consecutive5xxErrors: 0 }, 2);
  hit(hs[0], { status: 500 }, 50);
  assert.ok(hs[0].healthy);
});

test("settings: Istio's zeros and Envoy's defaults", () => {
  assert.equal(compileOutlierSettings({}), {
    consecutive5xx: 5, consecutiveGateway: 0, consecutiveLocalOrigin: 0, split: false, intervalMs: 10 * S,
    baseEjectionTimeMs: 30 * S, maxEjectionTimeMs: 300 * S, maxEjectionPercent: 10, panicBelowPercent: 0,
  });
  assert.is(compileOutlierSettings({ maxEjectionPercent: 0 }).maxEjectionPercent, 10);
  assert.is(compileOutlierSettings({ splitExternalLocalOriginErrors: true }).consecutiveLocalOrigin, 5);
});

test.run();
