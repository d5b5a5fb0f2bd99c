// The connection pool's limits, counted on the wire: connections the server accepts and holds open.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closedPort, startTestServer, type TestSocket } from "../../../runtime/platform/http1/test-server.ts";
import type { Connect, Transport } from "../../../runtime/upstream/http1/index.ts";
import { UpstreamError } from "../../../runtime/platform/types.ts";
import { closePools, get, outcome, pool, streamOf, waitFor } from "./support.ts";

test.after.each(closePools);

test("keep-alive: sequential requests share one connection, which then sits idle", async () => {
  const server = await startTestServer((req, s) => s.respond(200, [], req.target));
  const p = pool();
  for (let i = 0; i < 5; i++) assert.is(await (await p.send(server.address, get(server.address, `/${i}`))).text(), `/${i}`);
  assert.is(server.accepted, 1);
  assert.equal(p.stats(), { connections: 1, active: 0, idle: 1, pending: 0, opened: 1, overflows: 0 });
  await server.close();
});

test("a connection goes back only once its body is read, and not after Connection: close", async () => {
  const server = await startTestServer((req, s) =>
    req.target === "/close" ? s.write("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok") : s.respond(200, [], "x".repeat(200_000)),
  );
  const p = pool();
  const unread = await p.send(server.address, get(server.address));
  assert.is(p.stats().idle, 0, "body not read yet");
  const second = await p.send(server.address, get(server.address));
  assert.is(server.accepted, 2, "the busy connection was not shared");
  await unread.arrayBuffer();
  await second.arrayBuffer();
  assert.is(p.stats().idle, 2);
  await (await p.send(server.address, get(server.address, "/close"))).text();
  await waitFor(() => p.stats().connections === 1, "the closed connection to leave the pool");
  await server.close();
});

test("not reused: HTTP/1.0 without keep-alive, stray bytes", async () => {
  const server = await startTestServer((req, s) => {
    if (req.target === "/1.0") return s.write("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return s.write("HTTP/1.1 204 No Content\r\n\r\nstray");
  });
  const p = pool();
  for (const target of ["/1.0", "/stray"]) {
    const r = await p.send(server.address, get(server.address, target));
    assert.is(await r.text(), target === "/stray" ? "" : "ok", target);
    await waitFor(() => p.stats().connections === 0, `the ${target} connection to be dropped`);
  }
  assert.is(server.accepted, 2);
  await server.close();
});

test("Content-Length beside Transfer-Encoding: chunked in HTTP/1.1 is refused (Envoy's upstream protocol error), the connection dropped", async () => {
  const server = await startTestServer((req, s) => {
    if (req.target === "/both") return s.write("HTTP/1.1 200 OK\r\ncontent-length: 99\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
    return s.respond(200, [], "fine");
  });
  try {
    const p = pool();
    const refused = await p.send(server.address, get(server.address, "/both")).then(
      async (r) => void (await r.text()),
      (error: unknown) => error,
    );
    assert.instance(refused, UpstreamError);
    assert.is((refused as UpstreamError).failure, "protocol");
    assert.match((refused as UpstreamError).message, "both content-length and transfer-encoding");
    await waitFor(() => p.stats().connections === 0, "the refused connection to be dropped");
    // the pool is not poisoned: the next request opens a new connection and succeeds
    assert.is(await (await p.send(server.address, get(server.address, "/next"))).text(), "fine");
    assert.is(server.accepted, 2);
  } finally {
    await server.close();
  }
});

test("an idle connection the server closes leaves the pool", async () => {
  const server = await startTestServer(async (_req, s) => {
    await s.respond(200, [], "ok");
    s.end();
  });
  const p = pool();
  assert.is(await (await p.send(server.address, get(server.address))).text(), "ok");
  await waitFor(() => p.stats().connections === 0, "the closed idle connection to leave");
  assert.is(await (await p.send(server.address, get(server.address))).text(), "ok");
  assert.is(server.accepted, 2);
  await server.close();
});

test("maxRequestsPerConnection 1: one connection per request", async () => {
  const server = await startTestServer((_req, s) => s.respond(200, [], "ok"));
  const p = pool({ maxRequestsPerConnection: 1 });
  for (let i = 0; i < 4; i++) await (await p.send(server.address, get(server.address))).text();
  await waitFor(() => server.accepted === 4 && server.open === 0, "four connections, all closed");
  assert.is(p.stats().opened, 4);
  await server.close();
});

test("maxConnections 1 + maxPendingRequests 1: five at once → never two connections, overflow at once", async () => {
  const held: TestSocket[] = [];
  const server = await startTestServer((_req, s) => void held.push(s));
  const p = pool({ maxConnections: 1, maxPendingRequests: 1 });
  const sends = Array.from({ length: 5 }, (_, i) => outcome(p.send(server.address, get(server.address, `/${i}`))));
  // Envoy's accounting: the first request waits for the connection it opens, and that counts as
  // pending, so the other four overflow before any connection or response exists
  const early = await Promise.race([Promise.all(sends.slice(1)), new Promise((r) => setTimeout(() => r("late"), 1000))]);
  assert.equal(early, ["overflow", "overflow", "overflow", "overflow"]);
  assert.equal(p.stats(), { connections: 1, active: 1, idle: 0, pending: 1, opened: 1, overflows: 4 });
  await waitFor(() => held.length === 1, "the first request");
  assert.is(p.stats().pending, 0, "an open connection's request is no longer pending");
  // now the connection is busy: one more waits in the queue, the next overflows
  const queued = outcome(p.send(server.address, get(server.address, "/queued")));
  const over = await outcome(p.send(server.address, get(server.address, "/over")));
  assert.is(over, "overflow");
  await held[0].respond(200, [], "a");
  await waitFor(() => held.length === 2, "the queued request on the same connection");
  await held[1].respond(200, [], "b");
  assert.equal(await Promise.all([sends[0], queued]), ["ok", "ok"]);
  assert.is(server.accepted, 1);
  assert.is(server.maxOpen, 1);
  await server.close();
});

test("maxConnections 1 + maxRequestsPerConnection 1: a closed connection's slot is free only once the upstream let go", async () => {
  const server = await startTestServer(async (_req, s) => {
    await new Promise((r) => setTimeout(r, 5));
    await s.respond(200, [], "ok");
  });
  const p = pool({ maxConnections: 1, maxRequestsPerConnection: 1 });
  const client = async () => {
    for (let i = 0; i < 5; i++) assert.is(await (await p.send(server.address, get(server.address))).text(), "ok");
  };
  await Promise.all([client(), client()]);
  assert.is(server.accepted, 10);
  assert.is(server.maxOpen, 1, "the upstream never held two connections at once");
  await waitFor(() => p.stats().connections === 0, "the last connection to close");
  await server.close();
});

test("the pending queue is FIFO", async () => {
  const held: TestSocket[] = [];
  const order: string[] = [];
  const server = await startTestServer((req, s) => {
    order.push(req.target);
    held.push(s);
  });
  const p = pool({ maxConnections: 1, maxPendingRequests: 10 });
  const sends = ["/1", "/2", "/3", "/4", "/5"].map((t) => p.send(server.address, get(server.address, t)));
  assert.is(p.stats().pending, 5, "four queued, and the first waiting for its connection");
  for (let i = 0; i < 5; i++) {
    await waitFor(() => held.length === i + 1, `request ${i + 1}`);
    await held[i].respond(200, [], "ok");
  }
  await Promise.all(sends);
  assert.equal(order, ["/1", "/2", "/3", "/4", "/5"]);
  assert.is(server.accepted, 1);
  await server.close();
});

test("maxConnections is per cluster: two hosts share it, and a waiter for the other host gets the slot", async () => {
  const held: TestSocket[] = [];
  const a = await startTestServer((_req, s) => void held.push(s));
  const b = await startTestServer((_req, s) => s.respond(200, [], "from b"));
  const p = pool({ maxConnections: 1 });
  const toA = p.send(a.address, get(a.address));
  await waitFor(() => held.length === 1, "a's request");
  const toB = p.send(b.address, get(b.address));
  assert.is(p.stats().pending, 1);
  assert.is(b.accepted, 0, "b waits while a holds the only connection");
  await held[0].respond(200, [], "from a");
  assert.is(await (await toA).text(), "from a");
  assert.is(await (await toB).text(), "from b");
  await waitFor(() => a.open === 0, "a's connection to be closed for b");
  // an idle connection of another host is given up rather than making a request wait
  const again = p.send(a.address, get(a.address, "/again"));
  await waitFor(() => held.length === 2, "the request to a");
  assert.is(p.stats().connections, 1);
  await waitFor(() => b.open === 0, "b's idle connection to be given up");
  await held[1].respond(200, [], "again");
  assert.is(await (await again).text(), "again");
  await a.close();
  await b.close();
});

test("idle connections close after idleTimeoutMs", async () => {
  const server = await startTestServer((_req, s) => s.respond(200, [], "ok"));
  const p = pool({ idleTimeoutMs: 50 });
  await Promise.all([0, 1, 2].map(async () => (await p.send(server.address, get(server.address))).text()));
  assert.ok(p.stats().idle >= 1);
  await waitFor(() => p.stats().connections === 0 && server.open === 0, "idle connections to time out");
  // the pool still works afterwards
  assert.is(await (await p.send(server.address, get(server.address))).text(), "ok");
  await server.close();
});

test("connect refused → connect", async () => {
  const port = await closedPort();
  const p = pool();
  assert.is(await outcome(p.send(`127.0.0.1:${port}`, get(`127.0.0.1:${port}`))), "connect");
  assert.is(await outcome(p.send("127.0.0.1:no-port", get("127.0.0.1:no-port"))), "connect");
  assert.equal(p.stats().connections, 0);
});

test("connect timeout → connect-timeout, and the half-open socket is dropped", async () => {
  let destroyed = 0;
  const never: Connect = () => ({ write: () => true, pause() {}, resume() {}, ref() {}, end() {}, destroy: () => void destroyed++ }) as Transport;
  const p = pool({ connectTimeoutMs: 30 }, { connect: never });
  const started = Date.now();
  assert.is(await outcome(p.send("10.255.255.1:80", get("10.255.255.1:80"))), "connect-timeout");
  assert.ok(Date.now() - started < 2000);
  assert.is(destroyed, 1);
  assert.is(p.stats().connections, 0);
});

test("abort: in flight → aborted and the connection is destroyed; while pending → aborted", async () => {
  const server = await startTestServer(() => {}); // never answers
  const p = pool({ maxConnections: 1 });
  const inFlight = new AbortController();
  const queued = new AbortController();
  const first = outcome(p.send(server.address, get(server.address, "/", { signal: inFlight.signal })));
  const second = outcome(p.send(server.address, get(server.address, "/", { signal: queued.signal })));
  await waitFor(() => server.requests.length === 1, "the first request");
  queued.abort();
  assert.is(await second, "aborted");
  assert.is(p.stats().pending, 0);
  inFlight.abort();
  assert.is(await first, "aborted");
  await waitFor(() => server.open === 0, "the server to see the connection close");
  assert.is(await outcome(p.send(server.address, get(server.address, "/", { signal: AbortSignal.abort() }))), "aborted");
  await server.close();
});

test("abort after the head: the body stream errors", async () => {
  const server = await startTestServer((_req, s) => void s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"));
  const p = pool();
  const ac = new AbortController();
  const r = await p.send(server.address, get(server.address, "/", { signal: ac.signal }));
  const reader = r.body!.getReader();
  await reader.read();
  ac.abort();
  const failed = await reader.read().then(() => "no error", (e) => e.failure);
  assert.is(failed, "aborted");
  await waitFor(() => server.open === 0, "the connection to close");
  await server.close();
});

test("keep-alive race: a reused connection closed before any response byte is re-sent once", async () => {
  const server = await startTestServer((req, s) => {
    // the second request on each connection: hang up without a byte, as an idle-timing-out server does
    if (req.connection === 1 && server.requests.filter((r) => r.connection === 1).length === 2) return s.destroy();
    return s.respond(200, [], `conn ${req.connection}`);
  });
  const p = pool();
  assert.is(await (await p.send(server.address, get(server.address))).text(), "conn 1");
  assert.is(await (await p.send(server.address, get(server.address))).text(), "conn 2");
  assert.is(server.accepted, 2);
  await server.close();
});

test("no re-send when the request body was already read, or on a fresh connection", async () => {
  const server = await startTestServer((req, s) => (req.target === "/first" ? s.respond(200) : s.destroy()));
  const p = pool();
  await (await p.send(server.address, get(server.address, "/first"))).arrayBuffer();
  const post = get(server.address, "/post", { method: "POST", body: streamOf([new TextEncoder().encode("pay")]) });
  assert.is(await outcome(p.send(server.address, post)), "reset");
  assert.is(await outcome(p.send(server.address, get(server.address, "/fresh"))), "reset");
  assert.is(server.accepted, 2, "neither was sent again");
  await server.close();
});

test("setLimits applies to a live pool; close() fails what waits", async () => {
  const held: TestSocket[] = [];
  const server = await startTestServer((_req, s) => void held.push(s));
  const p = pool({ maxConnections: 1 });
  const first = outcome(p.send(server.address, get(server.address, "/1")));
  const second = outcome(p.send(server.address, get(server.address, "/2")));
  await waitFor(() => held.length === 1, "the first request");
  p.setLimits({ maxConnections: 2, maxPendingRequests: Infinity, maxRequestsPerConnection: 0, idleTimeoutMs: 3_600_000, connectTimeoutMs: 10_000 });
  await waitFor(() => held.length === 2, "the queued request on a second connection");
  p.close();
  assert.equal(await Promise.all([first, second]), ["reset", "reset"]);
  await server.close();
});

test.run();
