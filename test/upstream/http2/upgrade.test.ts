// h2UpgradePolicy's pool (runtime/upstream/http2/upgrade.ts) with fake pools: UPGRADE sends on the
// HTTP/2 pool, the default on HTTP/1.1; a WebSocket (any Upgrade) or CONNECT stays HTTP/1.1; a
// reload's limits switch it in place and reach both pools; stats add up; close closes both.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createUpgradingPool, staysHttp1 } from "../../../runtime/upstream/http2/upgrade.ts";
import type { ConnectionPool, PoolLimits, PoolStats } from "../../../runtime/upstream/pool-types.ts";
import type { UpstreamRequest } from "../../../runtime/platform/types.ts";
import { MeshResponse } from "../../../runtime/exchange/response.ts";

const LIMITS: PoolLimits = { maxConnections: Infinity, maxPendingRequests: Infinity, maxRequestsPerConnection: 0, idleTimeoutMs: 3_600_000, connectTimeoutMs: 1000 };

function fakePool(name: string, log: string[]) {
  const state = { limits: [] as PoolLimits[], closed: false };
  const pool: ConnectionPool = {
    send: (address) => {
      log.push(`${name} ${address}`);
      return Promise.resolve(new MeshResponse(200, "", new Headers({ via: name }), null));
    },
    setLimits: (l) => void state.limits.push(l),
    stats: (): PoolStats => ({ connections: 1, active: 2, idle: 0, pending: 0, opened: 3, overflows: 0 }),
    close: () => void (state.closed = true),
  };
  return { pool, state };
}

function setup(limits: PoolLimits) {
  const log: string[] = [];
  const h1 = fakePool("h1", log);
  const h2 = fakePool("h2", log);
  const made: string[] = [];
  const pool = createUpgradingPool(limits, {
    http1: () => (made.push("h1"), h1.pool),
    http2: () => (made.push("h2"), h2.pool),
  });
  return { pool, log, made, h1, h2 };
}

const get = (headers: Record<string, string> = {}, method = "GET"): UpstreamRequest => ({ url: "http://10.0.0.1:8080/", method, headers: new Headers(headers), body: null });

test("UPGRADE: on the HTTP/2 pool; the default: HTTP/1.1; each pool made on first use", async () => {
  const off = setup(LIMITS);
  await off.pool.send("10.0.0.1:8080", get());
  assert.equal(off.log, ["h1 10.0.0.1:8080"]);
  assert.equal(off.made, ["h1"]);
  const on = setup({ ...LIMITS, h2Upgrade: true });
  await on.pool.send("10.0.0.1:8080", get());
  await on.pool.send("10.0.0.1:8080", get({ "content-type": "text/plain" }, "POST"));
  assert.equal(on.log, ["h2 10.0.0.1:8080", "h2 10.0.0.1:8080"]);
  assert.equal(on.made, ["h2"]);
});

test("an Upgrade (WebSocket) or CONNECT stays HTTP/1.1 under UPGRADE", async () => {
  const on = setup({ ...LIMITS, h2Upgrade: true });
  await on.pool.send("a:1", get({ connection: "upgrade", upgrade: "websocket" }));
  await on.pool.send("a:1", get({}, "CONNECT"));
  await on.pool.send("a:1", get());
  assert.equal(on.log, ["h1 a:1", "h1 a:1", "h2 a:1"]);
  assert.ok(staysHttp1(get({ upgrade: "websocket" })));
  assert.not.ok(staysHttp1(get({ connection: "keep-alive" })));
});

test("a reload switches the policy in place and hands the limits to both pools; stats add up; close closes both", async () => {
  const s = setup(LIMITS);
  await s.pool.send("a:1", get());
  s.pool.setLimits({ ...LIMITS, h2Upgrade: true, maxConcurrentStreams: 2 });
  await s.pool.send("a:1", get());
  assert.equal(s.log, ["h1 a:1", "h2 a:1"]);
  s.pool.setLimits({ ...LIMITS, h2Upgrade: false });
  await s.pool.send("a:1", get());
  assert.equal(s.log, ["h1 a:1", "h2 a:1", "h1 a:1"]);
  assert.is(s.h1.state.limits.length, 2);
  assert.is(s.h2.state.limits.at(-1)!.h2Upgrade, false);
  assert.equal(s.pool.stats(), { connections: 2, active: 4, idle: 0, pending: 0, opened: 6, overflows: 0 });
  s.pool.close();
  assert.ok(s.h1.state.closed && s.h2.state.closed);
});

test.run();
