// DestinationRule maxConcurrentStreams in the HTTP/2 pool (runtime/upstream/http2/pool.ts), with
// fake sessions: a session takes streams up to the lower of the rule's limit and the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS, then another session opens; a stream that closes makes room
// again; a reload's new limit applies to sessions already open.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHttp2Pool, type H2Connect } from "../../../runtime/upstream/http2/index.ts";
import type { H2ClientResponse, H2ClientSession, H2Head } from "../../../runtime/platform/types.ts";
import type { PoolLimits } from "../../../runtime/upstream/pool-types.ts";

const LIMITS: PoolLimits = { maxConnections: Infinity, maxPendingRequests: Infinity, maxRequestsPerConnection: 0, idleTimeoutMs: 3_600_000, connectTimeoutMs: 1000 };

class FakeSession implements H2ClientSession {
  active = 0;
  most = 0;
  gone = false;
  private readonly finishers: (() => void)[] = [];
  private readonly streamCallbacks: (() => void)[] = [];
  constructor(readonly maxStreams: number) {}
  request(_head: H2Head): Promise<H2ClientResponse> {
    this.active++;
    this.most = Math.max(this.most, this.active);
    this.finishers.push(() => {
      this.active--;
      for (const c of this.streamCallbacks) c();
    });
    return Promise.resolve({ head: { ":status": "200" }, body: null, trailers: Promise.resolve(undefined) });
  }
  finish(): void {
    this.finishers.shift()!();
  }
  onGone(): void {}
  onStreamClose(c: () => void): void {
    this.streamCallbacks.push(c);
  }
  close(): void {
    this.gone = true;
  }
}

function connector(peerMax: number) {
  const sessions: FakeSession[] = [];
  const connect: H2Connect = () => {
    const s = new FakeSession(peerMax);
    sessions.push(s);
    return Promise.resolve(s);
  };
  return { connect, sessions };
}

const req = () => ({ url: "http://10.0.0.1:9000/", method: "GET", headers: new Headers(), body: null });

async function sendMany(pool: ReturnType<typeof createHttp2Pool>, n: number) {
  const answers = await Promise.all(Array.from({ length: n }, () => pool.send("10.0.0.1:9000", req())));
  for (const a of answers) assert.is(a.status, 200);
}

test("the rule's limit below the peer's: 5 streams on sessions of 2, 2 and 1", async () => {
  const c = connector(100);
  const pool = createHttp2Pool({ ...LIMITS, maxConcurrentStreams: 2 }, { connect: c.connect });
  await sendMany(pool, 5);
  assert.equal(c.sessions.map((s) => s.most), [2, 2, 1]);
});

test("the peer's limit below the rule's wins; no rule: the peer's alone", async () => {
  const lower = connector(1);
  await sendMany(createHttp2Pool({ ...LIMITS, maxConcurrentStreams: 2 }, { connect: lower.connect }), 3);
  assert.equal(lower.sessions.map((s) => s.most), [1, 1, 1]);
  const peer = connector(3);
  await sendMany(createHttp2Pool(LIMITS, { connect: peer.connect }), 5);
  assert.equal(peer.sessions.map((s) => s.most), [3, 2]);
});

test("a closed stream makes room on its session; a reload's lower limit holds for open sessions", async () => {
  const c = connector(100);
  const pool = createHttp2Pool({ ...LIMITS, maxConcurrentStreams: 2 }, { connect: c.connect });
  await sendMany(pool, 2);
  c.sessions[0].finish();
  await sendMany(pool, 1);
  assert.is(c.sessions.length, 1);
  assert.is(c.sessions[0].active, 2);
  pool.setLimits({ ...LIMITS, maxConcurrentStreams: 1 });
  c.sessions[0].finish();
  await sendMany(pool, 1); // the session has 1 open: at the new limit
  assert.is(c.sessions.length, 2);
  assert.is(c.sessions[1].active, 1);
});

test.run();
