// The HTTP/1.1 server's per-connection callbacks (issue 10: no closures per request): pipelined
// requests on one connection, answered by an asynchronous handler, each get their own answer in
// order — a HEAD no body, a GET its body, a handler that rejects its local reply — so nothing of
// one request (whether it was a HEAD) leaks into the next one's response.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { listenHttp1 } from "../../../runtime/exchange/http1/listen.ts";
import { MeshResponse } from "../../../runtime/exchange/response.ts";
import type { HttpRequest } from "../../../runtime/exchange/types.ts";

/** all of pipelined written at once; the whole answer, read until the server closes */
function pipelined(port: number, requests: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let out = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => (out += d));
    socket.on("close", () => resolve(out));
    socket.on("error", (e) => (out ? resolve(out) : reject(e))); // a reset after the last answer (Connection: close) ends the read too
    socket.on("connect", () => socket.write(requests));
  });
}

async function handler(request: HttpRequest): Promise<MeshResponse> {
  const path = new URL(request.url).pathname;
  await Promise.resolve(); // answered asynchronously: the server's promise path
  if (path === "/fail") throw new Error("handler failed");
  const body = `body of ${path}`;
  return new MeshResponse(200, "OK", new Headers({ "content-length": String(body.length) }), new Blob([body]).stream());
}

test("pipelined HEAD, GET, failing GET, HEAD, GET: each answered as its own method asks, in order", async () => {
  const server = listenHttp1({ hostname: "127.0.0.1", port: 0, handler, onError: () => new MeshResponse(500, "Internal Server Error", new Headers({ "content-length": "4" }), new Blob(["oops"]).stream()) });
  try {
    const req = (method: string, path: string, last = false) => `${method} ${path} HTTP/1.1\r\nHost: a\r\n${last ? "Connection: close\r\n" : ""}\r\n`;
    const out = await pipelined(server.port, req("HEAD", "/h1") + req("GET", "/g1") + req("GET", "/fail") + req("HEAD", "/h2") + req("GET", "/g2", true));
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    assert.is(answers.length, 5, out);
    assert.match(answers[0], /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answers[0], /content-length: 11\r\n/i);
    assert.ok(answers[0].endsWith("\r\n\r\n"), `HEAD answered without a body: ${JSON.stringify(answers[0])}`);
    assert.ok(answers[1].endsWith("\r\n\r\nbody of /g1"), JSON.stringify(answers[1]));
    assert.match(answers[2], /^HTTP\/1\.1 500 /);
    assert.ok(answers[2].endsWith("\r\n\r\noops"), JSON.stringify(answers[2]));
    assert.ok(answers[3].endsWith("\r\n\r\n"), `HEAD answered without a body: ${JSON.stringify(answers[3])}`);
    assert.ok(answers[4].endsWith("\r\n\r\nbody of /g2"), JSON.stringify(answers[4]));
  } finally {
    server.stop();
  }
});

test.run();
