// The HTTP/2 pool with fake sessions (no sockets): streams share one session per address; a second
// session only when the peer's stream limit is reached; maxConnections with a bounded FIFO queue
// (overflow beyond it); queued requests start as streams close; requests during a connect wait for
// it; connect failures and TLS refusals come back as UpstreamError kinds; maxRequestsPerConnection
// retires a session. What goes on the stream's head is checked too.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHttp2Pool, type H2Connect } from "../../../runtime/upstream/http2/index.ts";
import { UpstreamError, type H2ClientResponse, type H2ClientSession, type H2Head } from "../../../runtime/platform/types.ts";
import type { PoolLimits } from "../../../runtime/upstream/pool-types.ts";

const LIMITS: PoolLimits = { maxConnections: Infinity, maxPendingRequests: Infinity, maxRequestsPerConnection: 0, idleTimeoutMs: 3_600_000, connectTimeoutMs: 1000 };

class FakeSession implements H2ClientSession {
  active = 0;
  gone = false;
  closedByPool = false;
  readonly heads: H2Head[] = [];
  readonly open: (() => void)[] = [];
  private goneCallbacks: (() => void)[] = [];
  private streamCallbacks: (() => void)[] = [];
  constructor(readonly maxStreams: number) {}
  request(head: H2Head): Promise<H2ClientResponse> {
    this.heads.push(head);
    this.active++;
    // answered at once; the stream stays open until finish() (as a long gRPC stream would)
    this.open.push(() => {
      this.active--;
      for (const c of this.streamCallbacks) c();
    });
    return Promise.resolve({ head: { ":status": "200", "x-n": String(this.heads.length) }, body: new ReadableStream({ start: (c) => c.close() }), trailers: Promise.resolve({ "grpc-status": "0" }) });
  }
  finish(): void {
    this.open.shift()!();
  }
  onGone(c: () => void): void {
    this.goneCallbacks.push(c);
  }
  onStreamClose(c: () => void): void {
    this.streamCallbacks.push(c);
  }
  close(): void {
    this.closedByPool = true;
    this.gone = true;
    for (const c of this.goneCallbacks) c();
  }
}

function fakeConnect(maxStreams = Infinity) {
  const sessions: FakeSession[] = [];
  const pendingConnects: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let manual = false;
  const connect: H2Connect = () => {
    const session = new FakeSession(maxStreams);
    sessions.push(session);
    if (!manual) return Promise.resolve(session);
    return new Promise((resolve, reject) => pendingConnects.push({ resolve: () => resolve(session), reject }));
  };
  return { connect, sessions, pendingConnects, holdConnects: () => (manual = true) };
}

const request = (headers: Record<string, string> = {}) => ({ url: "http://10.0.0.1:9000/dm.Echo/Unary", method: "POST", headers: new Headers({ host: "echo.example", ...headers }), body: null });
const tick = () => new Promise((r) => setTimeout(r, 0));

test("concurrent requests share one session; the head carries pseudo-headers, gRPC's te, no Host", async () => {
  const f = fakeConnect();
  const pool = createHttp2Pool(LIMITS, { connect: f.connect });
  const responses = await Promise.all([1, 2, 3].map(() => pool.send("10.0.0.1:9000", request({ "content-type": "application/grpc", connection: "keep-alive" }))));
  assert.is(f.sessions.length, 1);
  assert.equal(responses.map((r) => r.status), [200, 200, 200]);
  assert.equal(Object.fromEntries((await responses[0].trailers)!), { "grpc-status": "0" });
  const head = f.sessions[0].heads[0];
  assert.equal(head, { ":method": "POST", ":scheme": "http", ":authority": "echo.example", ":path": "/dm.Echo/Unary", "content-type": "application/grpc", te: "trailers" });
  assert.is(pool.stats().connections, 1);
  assert.is(pool.stats().active, 3);
});

test("the peer's stream limit reached: a second session", async () => {
  const f = fakeConnect(2);
  const pool = createHttp2Pool(LIMITS, { connect: f.connect });
  await Promise.all([1, 2, 3].map(() => pool.send("10.0.0.1:9000", request())));
  assert.equal(f.sessions.map((s) => s.heads.length), [2, 1]);
});

test("maxConnections reached: requests queue (FIFO), overflow beyond maxPendingRequests, start as streams close", async () => {
  const f = fakeConnect(1);
  const pool = createHttp2Pool({ ...LIMITS, maxConnections: 1, maxPendingRequests: 1 }, { connect: f.connect });
  await pool.send("10.0.0.1:9000", request());
  let second = false;
  const queued = pool.send("10.0.0.1:9000", request()).then((r) => ((second = true), r));
  const overflow = await pool.send("10.0.0.1:9000", request()).catch((e) => e);
  assert.instance(overflow, UpstreamError);
  assert.is((overflow as UpstreamError).failure, "overflow");
  assert.is(pool.stats().overflows, 1);
  assert.is(pool.stats().pending, 1);
  await tick();
  assert.not.ok(second);
  f.sessions[0].finish();
  await queued;
  assert.ok(second);
  assert.is(f.sessions.length, 1);
});

test("requests during a connect wait for that session instead of opening more", async () => {
  const f = fakeConnect();
  f.holdConnects();
  const pool = createHttp2Pool(LIMITS, { connect: f.connect });
  const all = Promise.all([1, 2, 3, 4].map(() => pool.send("10.0.0.1:9000", request())));
  await tick();
  assert.is(f.pendingConnects.length, 1);
  f.pendingConnects[0].resolve();
  await all;
  assert.is(f.sessions[0].heads.length, 4);
});

test("a failed connect fails its waiters with the platform's error", async () => {
  const f = fakeConnect();
  f.holdConnects();
  const pool = createHttp2Pool(LIMITS, { connect: f.connect });
  const a = pool.send("10.0.0.1:9000", request()).catch((e) => e);
  const b = pool.send("10.0.0.1:9000", request()).catch((e) => e);
  await tick();
  f.pendingConnects[0].reject(new UpstreamError("connect-timeout", "timed out"));
  assert.is(((await a) as UpstreamError).failure, "connect-timeout");
  assert.is(((await b) as UpstreamError).failure, "connect-timeout");
  assert.is(pool.stats().connections, 0);
});

test("a refused address (needs TLS) fails as a connect failure without connecting", async () => {
  const f = fakeConnect();
  const pool = createHttp2Pool(LIMITS, { connect: f.connect, refuse: (host, port) => (port === 9443 ? `${host}:${port} needs TLS` : undefined) });
  const error = (await pool.send("10.0.0.1:9443", request()).catch((e) => e)) as UpstreamError;
  assert.is(error.failure, "connect");
  assert.match(error.message, "needs TLS");
  assert.is(f.sessions.length, 0);
});

test("mesh peers: tlsFor's target goes to connect, one session per peer carries every stream; plaintext addresses get none", async () => {
  const targets: unknown[] = [];
  const f = fakeConnect();
  const connect: H2Connect = (host, port, timeout, tls) => {
    targets.push(tls);
    return f.connect(host, port, timeout, tls);
  };
  const mesh = { credentials: () => null, verifyPeer: () => null };
  const pool = createHttp2Pool(LIMITS, { connect, tlsFor: (_host, port) => (port === 15006 ? mesh : null) });
  await Promise.all([1, 2, 3, 4].map(() => pool.send("10.0.0.2:15006", request())));
  await pool.send("10.0.0.1:9000", request());
  assert.equal(targets, [mesh, undefined]);
  assert.is(f.sessions[0].heads.length, 4);
  assert.is(pool.stats().connections, 2);
});

test("maxRequestsPerConnection: the session is retired after its last request, the next opens another", async () => {
  const f = fakeConnect();
  const pool = createHttp2Pool({ ...LIMITS, maxRequestsPerConnection: 1 }, { connect: f.connect });
  await pool.send("10.0.0.1:9000", request());
  assert.ok(f.sessions[0].closedByPool);
  await pool.send("10.0.0.1:9000", request());
  assert.is(f.sessions.length, 2);
});

test("an aborted signal fails at once", async () => {
  const f = fakeConnect();
  const pool = createHttp2Pool(LIMITS, { connect: f.connect });
  const error = (await pool.send("10.0.0.1:9000", { ...request(), signal: AbortSignal.abort() }).catch((e) => e)) as UpstreamError;
  assert.is(error.failure, "aborted");
  assert.is(f.sessions.length, 0);
});

test.run();
