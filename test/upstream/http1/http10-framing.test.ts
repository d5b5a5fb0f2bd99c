// An HTTP/1.0 response with Transfer-Encoding (issue 15 item 11a): RFC 9112 §6.1 calls its framing
// faulty — the client reads the body until the server closes and never reuses the connection.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startTestServer } from "../../../runtime/platform/http1/test-server.ts";
import { closePools, get, pool } from "./support.ts";

test.after.each(closePools);

for (const extra of ["", "content-length: 5\r\n"]) {
  test(`HTTP/1.0 with Transfer-Encoding: chunked${extra ? " and a Content-Length" : ""}: read until close, raw, connection not reused`, async () => {
    const server = await startTestServer(async (_req, s) => {
      // a keep-alive HTTP/1.0 answer whose "chunked" body is followed by more bytes, then the close
      await s.write(`HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n${extra}\r\n5\r\nhello\r\n0\r\n\r\n`);
      await s.write("tail");
      s.end();
    });
    const p = pool();
    for (let i = 0; i < 2; i++) {
      const r = await p.send(server.address, get(server.address));
      assert.is(r.status, 200);
      assert.is(await r.text(), "5\r\nhello\r\n0\r\n\r\ntail", "decoded as chunked instead of read until close");
    }
    assert.is(server.accepted, 2, "the connection was reused");
    await server.close();
  });
}

test("HTTP/1.1 with Transfer-Encoding: chunked is still decoded and the connection reused", async () => {
  const server = await startTestServer(async (_req, s) => {
    await s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  });
  const p = pool();
  for (let i = 0; i < 2; i++) assert.is(await (await p.send(server.address, get(server.address))).text(), "hello");
  assert.is(server.accepted, 1);
  await server.close();
});

test.run();
