// The node:http2 client session (runtime/platform/http2-connect.ts) against a real h2c server on
// loopback: a session the pool retires with close() still reports its end (onGone), so a cluster
// at maxConnections 1 with maxRequestsPerConnection 1 — the demo's alphabet-service
// DestinationRule — opens the next connection instead of queueing every later request forever.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http2 from "node:http2";
import { connectHttp2 } from "../../runtime/platform/http2-connect.ts";
import { createHttp2Pool } from "../../runtime/upstream/http2/index.ts";

let server: http2.Http2Server;
let port = 0;
let sessions = 0;

test.before(async () => {
  server = http2.createServer();
  server.on("session", () => sessions++);
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.respond({ ":status": 200, "content-type": "text/plain" });
    stream.end(`answer ${headers[":path"]}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

test.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** fails the test instead of hanging it when a promise never settles (a bound, not a timing assertion) */
function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: never settled`)), 15_000)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

test("a session closed by its owner reports its end once the connection is closed", async () => {
  const session = await connectHttp2("127.0.0.1", port, 5000);
  let reports = 0;
  const ended = new Promise<void>((resolve) => session.onGone(() => (reports++, resolve())));
  const response = await session.request({ ":method": "GET", ":path": "/one", ":scheme": "http", ":authority": "x" }, null, undefined);
  assert.is(Number(response.head[":status"]), 200);
  await new Response(response.body).text();
  session.close();
  assert.ok(session.gone, "no new streams once closed");
  await bounded("onGone after close()", ended);
  assert.is(reports, 1);
});

test("maxConnections 1 + maxRequestsPerConnection 1: each request gets its own connection, none waits forever", async () => {
  const before = sessions;
  const pool = createHttp2Pool(
    { maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1, idleTimeoutMs: 60_000, connectTimeoutMs: 5000 },
    { connect: connectHttp2 },
  );
  for (const path of ["/a", "/b", "/c"]) {
    const response = await bounded(path, pool.send(`127.0.0.1:${port}`, { url: `http://127.0.0.1:${port}${path}`, method: "GET", headers: new Headers({ host: "x" }), body: null }));
    assert.is(await new Response(response.body).text(), `answer ${path}`);
  }
  assert.is(sessions - before, 3);
  pool.close();
});

test.run();
