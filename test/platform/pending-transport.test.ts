// PendingTransport (runtime/platform/http1/mesh-connect.ts): a TLS connection asked for before
// node:tls's transport module has loaded. What the client does meanwhile reaches the real
// transport in order once it exists; destroyed meanwhile, nothing opens and the handler hears
// nothing; a module that fails to load closes the connection with that error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PendingTransport } from "../../runtime/platform/http1/mesh-connect.ts";
import type { Transport, TransportHandler } from "../../runtime/platform/http1/transport.ts";

/** a real transport's stand-in that records what it is told */
function recorder() {
  const calls: string[] = [];
  let handlerSeen: TransportHandler | undefined;
  const make = (handler: TransportHandler): Transport => {
    handlerSeen = handler;
    calls.push("open");
    return {
      write: (data) => (calls.push(`write ${new TextDecoder().decode(data)}`), true),
      pause: () => void calls.push("pause"),
      resume: () => void calls.push("resume"),
      ref: (on) => void calls.push(`ref ${on}`),
      end: () => void calls.push("end"),
      destroy: () => void calls.push("destroy"),
    };
  };
  return { calls, make, handler: () => handlerSeen };
}

function handler(closed: (Error | null)[] = []): TransportHandler {
  return { onOpen() {}, onData() {}, onDrain() {}, onClose: (e) => void closed.push(e) };
}

test("writes, ref, pause and end made before the module loads reach the real transport in order", async () => {
  const r = recorder();
  let loaded!: (make: (h: TransportHandler) => Transport) => void;
  const h = handler();
  const t = new PendingTransport(new Promise((resolve) => (loaded = resolve)), h);
  assert.ok(t.write(new TextEncoder().encode("GET / HTTP/1.1\r\n")));
  t.write(new TextEncoder().encode("\r\n"));
  t.ref(false);
  t.pause();
  t.end();
  assert.equal(r.calls, []);
  loaded(r.make);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(r.calls, ["open", "ref false", "pause", "write GET / HTTP/1.1\r\n", "write \r\n", "end"]);
  assert.is(r.handler(), h, "the real transport reports to the caller's handler");
  // from then on, straight through
  t.resume();
  t.write(new TextEncoder().encode("x"));
  assert.equal(r.calls.slice(-2), ["resume", "write x"]);
});

test("destroyed before the module loads: nothing opens, the handler hears nothing", async () => {
  const r = recorder();
  const closed: (Error | null)[] = [];
  let loaded!: (make: (h: TransportHandler) => Transport) => void;
  const t = new PendingTransport(new Promise((resolve) => (loaded = resolve)), handler(closed));
  t.write(new TextEncoder().encode("lost"));
  t.destroy();
  loaded(r.make);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(r.calls, []);
  assert.equal(closed, []);
});

test("a module that fails to load closes the connection with its error", async () => {
  const closed: (Error | null)[] = [];
  new PendingTransport(Promise.reject(new Error("no node:tls here")), handler(closed));
  await Promise.resolve();
  await Promise.resolve();
  assert.is(closed.length, 1);
  assert.is(closed[0]?.message, "no node:tls here");
});

test.run();
