// The HTTP/1.1 client against a raw server on loopback: what goes on the wire and what comes back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "../../../runtime/platform/http1/test-server.ts";
import { createPoolClient } from "../../../runtime/upstream/http1/client.ts";
import { toWebResponse } from "../../../runtime/exchange/web-request.ts";
import { bytesOf, closePools, deferred, equalBytes, get, outcome, pool, streamOf, waitFor } from "./support.ts";

const text = (s: string) => new TextEncoder().encode(s);

test.after.each(closePools);

test("GET: head written as given, Host included; Content-Length body back", async () => {
  const server = await startTestServer((req, s) => s.respond(200, [["content-type", "text/plain"]], `you asked for ${req.target}`));
  const p = pool();
  const headers = new Headers({ host: "reviews.default.svc.cluster.local:9080", "x-request-id": "abc", accept: "*/*" });
  const r = await p.send(server.address, { url: `http://${server.address}/a/b?c=1&d`, method: "GET", headers, body: null });
  assert.is(r.status, 200);
  assert.is(r.headers.get("content-type"), "text/plain");
  assert.is(await r.text(), "you asked for /a/b?c=1&d");
  const head = server.requests[0].rawHead;
  assert.ok(head.startsWith("GET /a/b?c=1&d HTTP/1.1\r\n"), head);
  assert.is(server.requests[0].header("host"), "reviews.default.svc.cluster.local:9080");
  assert.is(server.requests[0].header("x-request-id"), "abc");
  assert.not.ok(server.requests[0].header("transfer-encoding"), "no body, no framing header");
  assert.not.ok(server.requests[0].header("content-length"));
  await server.close();
});

test("target: sent as the request line's target when given; else the URL's path and query", async () => {
  const server = await startTestServer((req, s) => s.respond(200, [], req.target));
  const p = pool();
  const url = `http://${server.address}/from-url?u=1`;
  const given = await p.send(server.address, { url, target: "/from-target?t=2", method: "GET", headers: new Headers({ host: "h" }), body: null });
  assert.is(await given.text(), "/from-target?t=2");
  const parsed = await p.send(server.address, { url, method: "GET", headers: new Headers({ host: "h" }), body: null });
  assert.is(await parsed.text(), "/from-url?u=1");
  await server.close();
});

test("the pool client: the address the caller gives apart is the one dialled; else the URL's authority", async () => {
  const server = await startTestServer((req, s) => s.respond(200, [], req.header("host") ?? ""));
  const client = createPoolClient(pool().raw);
  // the url names a port nothing listens on: only the address given apart can reach the server
  const apart = await client.send({ url: "http://127.0.0.1:9/x", address: server.address, target: "/x", method: "GET", headers: new Headers(), body: null });
  assert.is(await toWebResponse(apart).text(), server.address, "Host, when missing, is that address");
  const parsed = await client.send({ url: `http://${server.address}/x`, method: "GET", headers: new Headers(), body: null });
  assert.is(await toWebResponse(parsed).text(), server.address);
  await server.close();
});

test("POST: a 2 MiB streamed body goes out chunked and comes back chunked, byte for byte", async () => {
  const server = await startTestServer(async (req, s) => {
    await s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    for (let c = await req.read(); c; c = await req.read()) await s.write(`${c.byteLength.toString(16)}\r\n`).then(() => s.write(c)).then(() => s.write("\r\n"));
    await s.write("0\r\nx-trailer: ignored\r\n\r\n");
  });
  const body = bytesOf(2 * 1024 * 1024 + 5);
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < body.byteLength; o += 100_000) chunks.push(body.subarray(o, o + 100_000));
  const p = pool();
  const r = await p.send(server.address, get(server.address, "/echo", { method: "POST", body: streamOf(chunks) }));
  const back = new Uint8Array(await r.arrayBuffer());
  assert.ok(equalBytes(back, body), `echoed ${back.byteLength} bytes`);
  assert.is(server.requests[0].header("transfer-encoding"), "chunked");
  assert.is(r.headers.get("x-trailer"), null, "trailers are not headers");
  await server.close();
});

test("a fast request body of many small pieces never loses the socket's drain (Deno: writes queued while one is in flight)", async () => {
  const server = await startTestServer(async (req, s) => s.respond(200, [], `got ${(await req.bytes()).byteLength}`));
  const piece = bytesOf(16 * 1024);
  const chunks = Array.from({ length: 400 }, () => piece);
  const headers = new Headers({ host: "x", "content-length": String(400 * piece.byteLength) });
  const p = pool();
  const sent = p.send(server.address, { url: `http://${server.address}/`, method: "PUT", headers, body: streamOf(chunks) }).then((r) => r.text());
  // a lost drain shows as a body that never finishes: a generous deadline, not a timing claim
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<string>((resolve) => (timer = setTimeout(() => resolve("stalled"), 20_000)));
  assert.is(await Promise.race([sent, stalled]), `got ${400 * piece.byteLength}`);
  clearTimeout(timer);
  await server.close();
});

test("POST with Content-Length streams exactly that many bytes, no chunked framing", async () => {
  const server = await startTestServer(async (req, s) => s.respond(200, [], `got ${(await req.bytes()).byteLength}`));
  const body = bytesOf(1_500_000);
  const headers = new Headers({ host: "x", "content-length": String(body.byteLength) });
  const p = pool();
  const r = await p.send(server.address, { url: `http://${server.address}/`, method: "PUT", headers, body: streamOf([body.subarray(0, 700_000), body.subarray(700_000)]) });
  assert.is(await r.text(), "got 1500000");
  assert.is(server.requests[0].header("transfer-encoding"), undefined);
  // a body that does not match its Content-Length fails rather than desynchronising the connection
  const short = new Headers({ host: "x", "content-length": "10" });
  const bad = p.send(server.address, { url: `http://${server.address}/`, method: "PUT", headers: short, body: streamOf([text("12345")]) });
  assert.is(await outcome(bad), "reset");
  await server.close();
});

test("slow streamed request body: the server sees chunk 1 before chunk 2 exists, and answers early", async () => {
  const sawFirst = deferred();
  const server = await startTestServer(async (req, s) => {
    const first = await req.read();
    if (first && new TextDecoder().decode(first) === "one ") sawFirst.resolve();
    await s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
    const rest = new TextDecoder().decode(await req.bytes());
    await s.write(`${rest.length.toString(16)}\r\n${rest}\r\n0\r\n\r\n`);
  });
  const p = pool();
  const body = streamOf([text("one "), text("two "), text("three")], (i) => (i === 1 ? sawFirst.promise : Promise.resolve()));
  const r = await p.send(server.address, get(server.address, "/", { method: "POST", body }));
  assert.is(await r.text(), "firsttwo three");
  await server.close();
});

test("an answer before the request body is done: the body is cancelled, the connection dropped", async () => {
  const server = await startTestServer((_req, s) => s.write("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\n\r\ntoo big!"));
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull: (c) => new Promise((r) => setTimeout(() => r(cancelled ? undefined : c.enqueue(text("more"))), 5)),
    cancel: () => void (cancelled = true),
  });
  const p = pool();
  const r = await p.send(server.address, get(server.address, "/upload", { method: "POST", body: endless }));
  assert.is(r.status, 413);
  assert.is(await r.text(), "too big!");
  await waitFor(() => cancelled, "the request body to be cancelled");
  await waitFor(() => p.stats().connections === 0 && server.open === 0, "the connection to be dropped");
  await server.close();
});

test("slow streamed response: the body arrives piece by piece, before the response is complete", async () => {
  const next = deferred();
  const server = await startTestServer(async (_req, s) => {
    await s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
    await next.promise;
    await s.write("world");
  });
  const p = pool();
  const r = await p.send(server.address, get(server.address));
  const reader = r.body!.getReader();
  const first = await reader.read();
  assert.is(new TextDecoder().decode(first.value), "hello");
  next.resolve();
  const second = await reader.read();
  assert.is(new TextDecoder().decode(second.value), "world");
  assert.ok((await reader.read()).done);
  await server.close();
});

test("close-delimited body: read until the server closes; the connection is not reused", async () => {
  const server = await startTestServer(async (_req, s) => {
    await s.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\npart one, ");
    await s.write("part two");
    s.end();
  });
  const p = pool();
  for (let i = 0; i < 2; i++) {
    const r = await p.send(server.address, get(server.address));
    assert.is(await r.text(), "part one, part two");
  }
  assert.is(server.accepted, 2);
  await server.close();
});

test("HEAD, 204 and 304 have no body even with a Content-Length; 1xx interim responses are skipped", async () => {
  const server = await startTestServer(async (req, s) => {
    if (req.target === "/204") return s.write("HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n");
    if (req.target === "/304") return s.write("HTTP/1.1 304 Not Modified\r\netag: \"v1\"\r\ncontent-length: 123\r\n\r\n");
    if (req.target === "/100") return s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    return s.write("HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n"); // HEAD: no body follows
  });
  const p = pool();
  const head = await p.send(server.address, get(server.address, "/head", { method: "HEAD" }));
  assert.is(head.status, 200);
  assert.is(head.headers.get("content-length"), "5000");
  assert.is(head.body, null);
  const r204 = await p.send(server.address, get(server.address, "/204"));
  assert.is(r204.status, 204);
  assert.is(r204.headers.get("x-a"), "1");
  const r304 = await p.send(server.address, get(server.address, "/304"));
  assert.is(r304.status, 304);
  assert.is(r304.headers.get("etag"), '"v1"');
  const r100 = await p.send(server.address, get(server.address, "/100"));
  assert.is(r100.status, 200);
  assert.is(r100.headers.get("link"), null, "interim headers are dropped");
  assert.is(await r100.text(), "ok");
  assert.is(server.accepted, 1, "all four on one keep-alive connection");
  await server.close();
});

test("repeated headers survive: two Set-Cookie lines stay two", async () => {
  const server = await startTestServer((_req, s) =>
    s.write("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\nVary: accept\r\nVary: origin\r\ncontent-length: 0\r\n\r\n"),
  );
  const p = pool();
  const r = await p.send(server.address, get(server.address));
  assert.equal(r.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
  assert.is(r.headers.get("vary"), "accept, origin");
  await server.close();
});

test("a head split across many packets, and a large chunked body in small pieces", async () => {
  const big = bytesOf(300_000);
  const server = await startTestServer(async (_req, s) => {
    for (const piece of ["HTT", "P/1.1 20", "0 OK\r", "\nx-long: ", "y".repeat(20_000), "\r\ntransfer-enc", "oding: chunked\r\n\r", "\n"]) await s.write(piece);
    for (let o = 0; o < big.byteLength; o += 70_000) {
      const c = big.subarray(o, o + 70_000);
      await s.write(`${c.byteLength.toString(16)};ext=1\r\n`);
      await s.write(c);
      await s.write("\r\n");
    }
    await s.write("0\r\n\r\n");
  });
  const p = pool();
  const r = await p.send(server.address, get(server.address));
  assert.is(r.headers.get("x-long")!.length, 20_000);
  assert.ok(equalBytes(new Uint8Array(await r.arrayBuffer()), big));
  await server.close();
});

test("bad responses fail as protocol errors (502 UPE): oversized head, too many headers, bad names or values, malformed status", async () => {
  const server = await startTestServer((req, s) => {
    if (req.target === "/big") return s.write(`HTTP/1.1 200 OK\r\nx: ${"a".repeat(70 * 1024)}\r\n\r\n`);
    if (req.target === "/many") return s.write(`HTTP/1.1 200 OK\r\n${"x: 1\r\n".repeat(101)}\r\n`);
    if (req.target === "/fold") return s.write("HTTP/1.1 200 OK\r\nx: 1\r\n  folded\r\ncontent-length: 0\r\n\r\n");
    if (req.target === "/cl") return s.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab");
    if (req.target === "/name") return s.write("HTTP/1.1 200 OK\r\nbad name: 1\r\ncontent-length: 0\r\n\r\n");
    if (req.target === "/space") return s.write("HTTP/1.1 200 OK\r\nname : 1\r\ncontent-length: 0\r\n\r\n");
    if (req.target === "/cr") return s.write("HTTP/1.1 200 OK\r\nx: a\rb\r\ncontent-length: 0\r\n\r\n");
    return s.write("HTTTP/1.1 200 OK\r\n\r\n");
  });
  const p = pool();
  try {
    for (const target of ["/big", "/many", "/fold", "/cl", "/name", "/space", "/cr", "/status"]) {
      assert.is(await outcome(p.send(server.address, get(server.address, target))), "protocol", target);
    }
  } finally {
    await server.close();
  }
});

test("100 headers are fine; 60 KiB of head is the limit", async () => {
  const server = await startTestServer((_req, s) => s.write(`HTTP/1.1 200 OK\r\n${"x: 1\r\n".repeat(99)}content-length: 0\r\n\r\n`));
  const p = pool();
  assert.is(await outcome(p.send(server.address, get(server.address))), "ok");
  await server.close();
});

test("server closes mid-body: the body stream errors; before the head: reset", async () => {
  const server = await startTestServer(async (req, s) => {
    if (req.target === "/mid") await s.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..");
    else if (req.target === "/chunked") await s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nabcd\r\n");
    else await s.write("HTTP/1.1 200 O");
    s.destroy();
  });
  const p = pool();
  for (const target of ["/mid", "/chunked"]) {
    const r = await p.send(server.address, get(server.address, target));
    assert.is(r.status, 200);
    let failed = "";
    try {
      await r.arrayBuffer();
    } catch (error) {
      failed = String((error as Error).message);
    }
    assert.match(failed, /mid-body/, target);
  }
  assert.is(await outcome(p.send(server.address, get(server.address, "/head"))), "reset");
  await waitFor(() => p.stats().connections === 0, "connections to be dropped");
  await server.close();
});

test("backpressure: a consumer that does not read stops the socket; reading resumes it", async () => {
  const size = 32 * 1024 * 1024;
  let written = false;
  const server = await startTestServer(async (_req, s) => {
    await s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
    await s.write(new Uint8Array(size));
    written = true;
  });
  const p = pool();
  const r = await p.send(server.address, get(server.address));
  // Without backpressure 32 MiB on loopback is read in well under this; with it, the kernel
  // buffers fill and the server's write cannot finish while nobody reads.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.not.ok(written, "the server finished writing although nobody read");
  let total = 0;
  const reader = r.body!.getReader();
  for (let c = await reader.read(); !c.done; c = await reader.read()) total += c.value.byteLength;
  assert.is(total, size);
  await waitFor(() => written, "the server's write to finish");
  await server.close();
});

test("CR or LF in a header value never reaches the wire", async () => {
  const server = await startTestServer((_req, s) => s.respond(200));
  const p = pool();
  // Headers itself refuses them; a Headers-like object that does not is refused by the client
  const sneaky = { forEach: (cb: (v: string, k: string) => void) => cb("a\r\nx-injected: 1", "x-a") } as unknown as Headers;
  const error = await p.send(server.address, { url: `http://${server.address}/`, method: "GET", headers: sneaky, body: null }).catch((e) => e);
  assert.instance(error, TypeError);
  assert.is(server.accepted, 0, "refused before connecting");
  await server.close();
});

test.run();
