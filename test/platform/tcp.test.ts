// The L4 proxy's sockets (platform/tcp.ts: Bun's native sockets on Bun, node:net on Deno) on
// loopback: bytes both ways, bytes sent before the proxy attaches are kept, half-close (a FIN one way
// while the other way still flows), and connect failures named as the proxy's flags need them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connectTcp, serveTcp, TcpConnectError, type TcpConnInfo } from "../../runtime/platform/tcp.ts";
import type { ByteChannel } from "../../runtime/exchange/types.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";

/** a sink that records what arrives and resolves once the peer closed */
function recorder(channel: ByteChannel) {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  let closed: (error: Error | null) => void;
  const done = new Promise<Error | null>((resolve) => (closed = resolve));
  const got: { text: () => string; done: Promise<Error | null>; next: (s: string) => Promise<void> } = {
    text: () => chunks.join(""),
    done,
    next: (s) => (chunks.join("").includes(s) ? Promise.resolve() : new Promise((resolve) => waiters.push({ s, resolve }))),
  };
  const waiters: { s: string; resolve: () => void }[] = [];
  channel.attach({
    onData(bytes) {
      chunks.push(decoder.decode(bytes));
      for (const w of waiters.splice(0)) {
        if (got.text().includes(w.s)) w.resolve();
        else waiters.push(w);
      }
    },
    onDrain() {},
    onClose: (error) => closed(error),
  });
  return got;
}

const encode = (s: string) => new TextEncoder().encode(s);

test("bytes both ways; what the client sent before the proxy attached is delivered first; half-close carries the reply", async () => {
  let accepted!: (v: { channel: ByteChannel; conn: TcpConnInfo }) => void;
  const connection = new Promise<{ channel: ByteChannel; conn: TcpConnInfo }>((resolve) => (accepted = resolve));
  const server = await serveTcp({ hostname: "127.0.0.1", port: 0, onConnection: (channel, conn) => accepted({ channel, conn }) });
  const client = await connectTcp("127.0.0.1", server.port, 5000);
  const fromServer = recorder(client);
  client.write(encode("early "));
  const { channel, conn } = await connection;
  assert.is(conn.localPort, server.port);
  assert.is(conn.remoteAddress, "127.0.0.1");
  const fromClient = recorder(channel);
  await fromClient.next("early ");
  client.write(encode("request"));
  await fromClient.next("request");
  client.end(); // the client's FIN: the server sees the end, and may still answer
  assert.is(await fromClient.done, null);
  assert.is(fromClient.text(), "early request");
  channel.write(encode("reply after the FIN"));
  channel.end();
  assert.is(await fromServer.done, null);
  assert.is(fromServer.text(), "reply after the FIN");
  await server.stop(true);
});

test("a refused connection is a connect failure", async () => {
  const port = await closedPort();
  try {
    await connectTcp("127.0.0.1", port, 5000);
    assert.unreachable("connected to a closed port");
  } catch (error) {
    assert.instance(error, TcpConnectError);
    assert.is((error as TcpConnectError).failure, "connect");
  }
});

test.run();
