// An HTTP/2 upstream whose answer is no valid response is Envoy's protocol error — 502, flag UPE,
// upstream_reset_before_response_started{protocol_error} — as an invalid HTTP/1.1 response is, not
// 503 UC: a raw h2 server on loopback sends the bad frames, through the HTTP/2 pool and the
// node:http2 client of each runtime (runtime/platform/http2-response-check.ts says which runtime
// reports what). A reset with another code stays a reset (503 UC), a valid answer is served, and a
// body that contradicts its content-length fails the body as a protocol error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connectHttp2 } from "../../../runtime/platform/http2-connect.ts";
import { createHttp2Pool } from "../../../runtime/upstream/http2/index.ts";
import { UpstreamError } from "../../../runtime/platform/types.ts";
import { classifyFailure } from "../../../runtime/router/classify.ts";
import { ProxyError } from "../../../runtime/exchange/errors.ts";
import { localReply } from "../../../runtime/exchange/local-reply.ts";
import { DATA, END_HEADERS, END_STREAM, HEADERS, RST_STREAM, STATUS_200, frame, literal, rawH2Server, type RawH2Server } from "./raw-h2-server.ts";

const BAD: Record<string, (id: number) => Uint8Array[]> = {
  "RST_STREAM PROTOCOL_ERROR": (id) => [frame(RST_STREAM, 0, id, [0, 0, 0, 1])],
  "a header block HPACK cannot decode": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [0x80])],
  ":status missing": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, literal("content-type", "text/plain"))],
  ":status repeated": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [STATUS_200, STATUS_200])],
  "an upper-case header name": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [STATUS_200, ...literal("X-Upper", "a")])],
  "content-length 5 on a HEADERS frame that ends the stream": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [STATUS_200, ...literal("content-length", "5")])],
};

let current: (id: number) => Uint8Array[] = () => [];
let server: RawH2Server;

test.before(async () => {
  server = await rawH2Server((id) => current(id));
});
test.after(() => server.close());

/** fails the test instead of hanging it when a promise never settles (a bound, not a timing assertion) */
function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: never settled`)), 15_000)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

function pool() {
  return createHttp2Pool(
    { maxConnections: 4, maxPendingRequests: 4, maxRequestsPerConnection: 0, idleTimeoutMs: 60_000, connectTimeoutMs: 5000 },
    { connect: connectHttp2 },
  );
}

async function send(answer: (id: number) => Uint8Array[]) {
  current = answer;
  const p = pool();
  try {
    const address = `127.0.0.1:${server.port}`;
    return await bounded("request", p.send(address, { url: `http://${address}/x`, method: "GET", headers: new Headers({ host: "raw.example" }), body: null }).then(
      async (response) => ({ status: response.status, body: await new Response(response.body).text().catch((e: unknown) => e) }),
      (error: unknown) => error,
    ));
  } finally {
    p.close();
  }
}

for (const [name, answer] of Object.entries(BAD)) {
  test(`${name}: 502 UPE protocol_error, not 503 UC`, async () => {
    const error = await send(answer);
    assert.instance(error, UpstreamError, `${name}: ${JSON.stringify(error)}`);
    assert.is((error as UpstreamError).failure, "protocol", (error as Error).message);
    const reply = localReply(new ProxyError(classifyFailure(error).code));
    assert.is(reply.status, 502);
    assert.is(await reply.text(), "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
  });
}

test("after a protocol error the pool does not send on the session it broke: the next request is served", async () => {
  const p = pool();
  const address = `127.0.0.1:${server.port}`;
  const go = () => bounded("request", p.send(address, { url: `http://${address}/x`, method: "GET", headers: new Headers({ host: "raw.example" }), body: null }));
  try {
    current = BAD[":status missing"];
    const error = await go().catch((e: unknown) => e);
    assert.is((error as UpstreamError).failure, "protocol");
    current = (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [STATUS_200])];
    assert.is((await go()).status, 200);
  } finally {
    p.close();
  }
});

test("RST_STREAM INTERNAL_ERROR before the head stays a reset: 503 UC", async () => {
  const error = await send((id) => [frame(RST_STREAM, 0, id, [0, 0, 0, 2])]);
  assert.instance(error, UpstreamError);
  assert.is((error as UpstreamError).failure, "reset", (error as Error).message);
  assert.is(localReply(new ProxyError(classifyFailure(error).code)).status, 503);
});

test("a valid answer with a matching content-length is served", async () => {
  const result = await send((id) => [frame(HEADERS, END_HEADERS, id, [STATUS_200, ...literal("content-length", "3")]), frame(DATA, END_STREAM, id, [0x61, 0x62, 0x63])]);
  assert.equal(result, { status: 200, body: "abc" });
});

for (const [name, bytes] of [["shorter", [0x61, 0x62, 0x63]], ["longer", new Array(12).fill(0x61)]] as const) {
  test(`DATA ${name} than content-length 10: the body fails as a protocol error`, async () => {
    const result = (await send((id) => [frame(HEADERS, END_HEADERS, id, [STATUS_200, ...literal("content-length", "10")]), frame(DATA, END_STREAM, id, bytes)])) as { status: number; body: unknown };
    assert.is(result.status, 200, "the head was valid");
    assert.instance(result.body, Error, `the body must not end as complete: ${String(result.body)}`);
  });
}

test.run();
