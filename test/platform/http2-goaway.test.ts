// A peer's GOAWAY must not bring a node:http2 session's process down (runtime/platform/http2-goaway.ts):
// Deno 2.9 closes the session inside nghttp2's GOAWAY frame callback and the process aborts or
// segfaults a few thousand connections in (denoland/deno#36788). Here the platform's own h2c
// listener, in this process, serves 6,000 connections from a real Node client that closes each
// with GOAWAY (without the deferral, on Deno, this process died in most runs), and the deferral
// itself is checked on a stand-in session: the close the runtime asks for still happens, one turn
// later, and the session's own methods come back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EventEmitter } from "node:events";
import { platform } from "../../runtime/platform/index.ts";
import { closeAfterGoawayFrame } from "../../runtime/platform/http2-goaway.ts";
import { root, run } from "../support/mesh.ts";
import type { SocketServer } from "../../runtime/platform/types.ts";

const churn = `${root}test/support/h2-churn.mjs`;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test("6,000 clients that close with GOAWAY: every answer 200, the listener still up, every session closed", async () => {
  let streams = 0;
  const server: SocketServer = await platform.serveHttp2({
    hostname: "127.0.0.1",
    port: 0,
    onStream(stream) {
      streams++;
      void new Response(stream.body).text().then((text) => stream.respond({ ":status": "200", "content-type": "text/plain" }, new Response(`got ${text}`).body, undefined));
    },
  });
  try {
    const { code, out } = await run("node", [churn, `127.0.0.1:${server.port}`, "6000", "8"]);
    assert.is(code, 0, out);
    assert.match(out, /done 6000 ok 6000/);
    assert.is(streams, 6000);
    // the closes put off past the GOAWAY frame did happen: no session is left behind
    for (let turn = 0; server.connections() > 0 && turn < 10_000; turn++) await nextTurn();
    assert.is(server.connections(), 0);
  } finally {
    await server.stop(true);
  }
});

/** a stand-in for a node:http2 session: close/destroy on the prototype, as the runtimes have them */
class StandIn extends EventEmitter {
  readonly calls: string[] = [];
  close(): void {
    this.calls.push("close");
  }
  destroy(): void {
    this.calls.push("destroy");
  }
}

test("the runtime's close on GOAWAY runs one turn later, and destroy likewise; then the session's own methods again", async () => {
  const session = new StandIn();
  closeAfterGoawayFrame(session as never);
  // what the runtime's GOAWAY handler does: emit, then close at once
  session.emit("goaway", 0, 0);
  session.close();
  assert.equal(session.calls, [], "not inside the frame callback");
  await nextTurn();
  await nextTurn();
  assert.equal(session.calls, ["close"]);
  assert.not.ok(Object.hasOwn(session, "close"), "the prototype's close is back");
  session.emit("goaway", 2, 0);
  session.destroy();
  assert.equal(session.calls, ["close"]);
  await nextTurn();
  await nextTurn();
  assert.equal(session.calls, ["close", "destroy"]);
  // with no GOAWAY, close is the session's own and immediate
  session.close();
  assert.equal(session.calls, ["close", "destroy", "close"]);
});

test.run();
