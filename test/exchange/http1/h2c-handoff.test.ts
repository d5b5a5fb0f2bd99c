// h2c on an HTTP/1.1 listener (Envoy's AUTO codec): a connection that opens with the HTTP/2 preface
// is served as HTTP/2 by the same handler (with the connection's address), anything else as
// HTTP/1.1 — also a POST whose first byte arrives alone, or a preface split across reads — and on
// stop() an HTTP/2 connection gets GOAWAY while its stream in flight finishes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http2 from "node:http2";
import * as net from "node:net";
import { listenHttp1 } from "../../../runtime/exchange/http1/listen.ts";
import { MeshResponse } from "../../../runtime/exchange/response.ts";
import type { HttpRequest } from "../../../runtime/exchange/types.ts";
import type { ConnInfo } from "../../../runtime/platform/types.ts";

function start(handler: (request: HttpRequest, conn: ConnInfo) => MeshResponse | Promise<MeshResponse>) {
  return listenHttp1({ hostname: "127.0.0.1", port: 0, handler, h2c: true });
}

const hello = (request: HttpRequest, conn: ConnInfo) =>
  new MeshResponse(200, "OK", new Headers({ "x-protocol": request.protocol ?? "h1", "x-remote": conn.remoteAddress }), new Blob([`${request.method} ${new URL(request.url).pathname}`]).stream());

/** one HTTP/2 GET over a fresh h2c connection */
function h2Get(port: number, path: string): Promise<{ head: http2.IncomingHttpHeaders; body: string; session: http2.ClientHttp2Session }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":path": path });
    let head: http2.IncomingHttpHeaders = {};
    let body = "";
    stream.on("response", (h) => (head = h));
    stream.on("data", (d) => (body += d));
    stream.on("end", () => resolve({ head, body, session }));
    stream.on("error", reject);
  });
}

/** raw bytes written in pieces, the whole answer read until the server closes */
function rawExchange(port: number, pieces: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    socket.on("data", (d) => (out += d));
    socket.on("close", () => resolve(out));
    socket.on("error", (e) => (out ? resolve(out) : reject(e)));
    socket.on("connect", async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 20)); // separate reads on the server, not a synchronisation
      }
    });
  });
}

test("the preface: HTTP/2 on the same handler, with the connection's address", async () => {
  const server = start(hello);
  try {
    const r = await h2Get(server.port, "/two");
    r.session.close();
    assert.is(r.head[":status"], 200);
    assert.is(r.head["x-protocol"], "h2");
    assert.is(r.head["x-remote"], "127.0.0.1");
    assert.is(r.body, "GET /two");
  } finally {
    await server.stop(true);
  }
});

test("HTTP/1.1 on the same port, a POST split after its P included", async () => {
  const server = start(hello);
  try {
    const one = await fetch(`http://127.0.0.1:${server.port}/one`);
    assert.is(one.headers.get("x-protocol"), "h1");
    assert.is(await one.text(), "GET /one");
    const raw = await rawExchange(server.port, ["P", "OST /split HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"]);
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.match(raw, /\r\nPOST \/split\r\n/, JSON.stringify(raw));
  } finally {
    await server.stop(true);
  }
});

test("a preface split across reads is still HTTP/2", async () => {
  const server = start(hello);
  const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // the preface in two pieces, then a SETTINGS frame: the server answers with its own SETTINGS
  const settings = "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
  const socket = net.connect(server.port, "127.0.0.1");
  try {
    const first = await new Promise<Buffer>((resolve, reject) => {
      socket.on("error", reject);
      socket.once("data", resolve);
      socket.on("connect", async () => {
        socket.write(preface.slice(0, 5));
        await new Promise((r) => setTimeout(r, 20));
        socket.write(preface.slice(5) + settings);
      });
    });
    // an HTTP/2 frame header: type 4 (SETTINGS) in its fourth byte; HTTP/1.1 would start "HTTP/1.1"
    assert.is(first[3], 4);
  } finally {
    socket.destroy();
    await server.stop(true);
  }
});

test("stop(): an HTTP/2 connection gets GOAWAY, its stream in flight finishes", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const inFlight = new Promise<void>((r) => (arrived = r));
  const server = start(async (request, conn) => {
    arrived();
    await held;
    return hello(request, conn);
  });
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  const goaway = new Promise<void>((r) => session.once("goaway", () => r()));
  const stream = session.request({ ":path": "/slow" });
  let body = "";
  stream.on("data", (d) => (body += d));
  const ended = new Promise<void>((r) => stream.on("end", () => r()));
  await inFlight;
  const stopped = server.stop();
  await goaway;
  release();
  await ended;
  assert.is(body, "GET /slow");
  await stopped;
  session.destroy();
});

test.run();
