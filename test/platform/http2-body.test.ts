// sendBody on real node:http2 streams (loopback): a streaming body's chunk goes out before the
// body has ended (a bidi call waits on the other side's answer before sending more), and with
// trailers the whole body and the trailers arrive.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http2 from "node:http2";
import { EventEmitter } from "node:events";
import { connectHttp2 } from "../../runtime/platform/http2-connect.ts";
import { h2BodyStream } from "../../runtime/platform/http2-body.ts";
import { eventually } from "../support/mesh.ts";

let server: http2.Http2Server;
let port = 0;
const received: { body: string; trailers: Record<string, unknown> }[] = [];

test.before(async () => {
  server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    let body = "";
    stream.respond({ ":status": 200 });
    stream.on("data", (chunk: Uint8Array) => {
      body += new TextDecoder().decode(chunk);
      // answers each chunk as it comes, as a bidi gRPC server does
      if (headers[":path"] === "/echo") stream.write(chunk);
    });
    let trailers: Record<string, unknown> = {};
    stream.on("trailers", (t) => (trailers = { ...t }));
    stream.on("end", () => stream.end());
    stream.on("close", () => received.push({ body, trailers }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

test.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("a chunk is sent before the body ends: the next one is written only after the echo of the first", async () => {
  const session = await connectHttp2("127.0.0.1", port, 5000);
  let send!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (send = c) });
  send.enqueue(new TextEncoder().encode("one;"));
  const response = await session.request({ ":method": "POST", ":path": "/echo", ":scheme": "http", ":authority": "x" }, body, Promise.resolve(undefined));
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.is(new TextDecoder().decode(first.value), "one;");
  send.enqueue(new TextEncoder().encode("two;"));
  send.close();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  assert.is(rest, "two;");
  session.close();
});

test("with trailers: the whole body, then the trailers", async () => {
  const session = await connectHttp2("127.0.0.1", port, 5000);
  const chunks = ["a", "b", "c"].map((s) => new TextEncoder().encode(s));
  const body = new ReadableStream<Uint8Array>({ start: (c) => { for (const chunk of chunks) c.enqueue(chunk); c.close(); } });
  const response = await session.request({ ":method": "POST", ":path": "/sink", ":scheme": "http", ":authority": "x" }, body, Promise.resolve({ "x-t": "1" }));
  for (const reader = response.body!.getReader(); !(await reader.read()).done; );
  await response.trailers;
  const got = await eventually(async () => received.find((r) => r.body === "abc"), 5000, "the server's record of the stream");
  assert.ok(got, JSON.stringify(received));
  assert.is(got!.trailers["x-t"], "1");
  session.close();
});

/** what h2BodyStream uses of a node:http2 stream */
function fakeStream() {
  return Object.assign(new EventEmitter(), { pause() {}, resume() {}, destroy() {} }) as unknown as http2.Http2Stream;
}

test("h2BodyStream: a body that ended builds no abort error when its stream closes; one closed early does", async () => {
  let built = 0;
  const onAborted = () => (built++, new Error("reset"));
  const whole = fakeStream();
  const body = h2BodyStream(whole, onAborted);
  whole.emit("data", new TextEncoder().encode("ok"));
  whole.emit("end");
  whole.emit("close");
  assert.is(await new Response(body).text(), "ok");
  assert.is(built, 0);
  const cut = fakeStream();
  const cutBody = h2BodyStream(cut, onAborted);
  cut.emit("data", new TextEncoder().encode("part"));
  cut.emit("close");
  const error = await new Response(cutBody).text().then(() => undefined, (e: Error) => e);
  assert.is(error?.message, "reset");
  assert.is(built, 1);
});

test.run();
