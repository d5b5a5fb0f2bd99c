// Reading SNI without terminating TLS, on in-memory channels with a real ClientHello (made by
// node:tls into a capture socket): hello-sniffer.ts waits for the whole record however it is split,
// replays every byte read to the splice that attaches next, and closes a client that never sends
// one; sni-tunnel.ts holds a CONNECT tunnel's first bytes until the hello names the server, opens
// the upstream once with that name, then passes the held bytes first — or closes with no upstream.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tls from "node:tls";
import * as net from "node:net";
import { sniffClientHello } from "../../runtime/l4/hello-sniffer.ts";
import { SniTunnel } from "../../runtime/l4/sni-tunnel.ts";
import type { ByteChannel, ByteSink } from "../../runtime/exchange/types.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

class MemoryChannel implements ByteChannel {
  sink: ByteSink | null = null;
  written: Uint8Array[] = [];
  paused = false;
  ended = false;
  destroyed = false;
  attach(sink: ByteSink): void {
    this.sink = sink;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    return true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const join = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

/** the first bytes a TLS client sends for servername: its ClientHello record */
async function clientHello(servername: string): Promise<Uint8Array> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const got = new Promise<Uint8Array>((resolve) =>
    server.once("connection", (socket) => {
      let bytes = new Uint8Array(0);
      socket.on("data", (d: Uint8Array) => {
        bytes = join([bytes, new Uint8Array(d)]);
        // the record header says how long the hello is
        if (bytes.byteLength >= 5 && bytes.byteLength >= 5 + ((bytes[3] << 8) | bytes[4])) {
          resolve(bytes);
          socket.destroy();
        }
      });
    }),
  );
  const client = tls.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, servername });
  client.on("error", () => {});
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

test("sniffClientHello: a hello split in three reads gives its name, and every byte is replayed first", async () => {
  const hello = await clientHello("a.example");
  const inner = new MemoryChannel();
  const clock = createFakeClock();
  const sniffed = sniffClientHello(inner, clock, 15_000);
  inner.sink!.onData(hello.slice(0, 3));
  inner.sink!.onData(hello.slice(3, 40));
  inner.sink!.onData(hello.slice(40));
  const result = (await sniffed)!;
  assert.is(result.serverName, "a.example");
  assert.ok(inner.paused, "no more reads until the route is chosen");
  // bytes arriving meanwhile are kept too
  inner.sink!.onData(new Uint8Array([1, 2, 3]));
  const seen: Uint8Array[] = [];
  result.channel.attach({ onData: (b) => seen.push(b), onDrain() {}, onClose() {} });
  assert.equal([...join(seen)], [...hello, 1, 2, 3]);
  assert.not.ok(inner.paused);
});

test("sniffClientHello: bytes that are not TLS are passed on with no name; a silent client is closed when the time is up", async () => {
  const inner = new MemoryChannel();
  const clock = createFakeClock();
  const plain = sniffClientHello(inner, clock, 15_000);
  inner.sink!.onData(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  const result = (await plain)!;
  assert.is(result.serverName, undefined);
  assert.is(result.problem, "not a TLS handshake");

  const silent = new MemoryChannel();
  const waiting = sniffClientHello(silent, clock, 15_000);
  silent.sink!.onData(new Uint8Array([0x16, 3, 1]));
  clock.advance(15_000);
  assert.is(await waiting, undefined);
  assert.ok(silent.destroyed);
});

test("SniTunnel: held until the hello is whole, opened once with its name, held bytes first, then a pipe", async () => {
  const hello = await clientHello("shop.example.com");
  const upstream = new MemoryChannel();
  const names: (string | undefined)[] = [];
  let opened!: () => void;
  const tunnel = new SniTunnel((name) => {
    names.push(name);
    return new Promise((resolve) => (opened = () => resolve({ channel: upstream })));
  });
  const fromUpstream: Uint8Array[] = [];
  tunnel.attach({ onData: (b) => fromUpstream.push(b), onDrain() {}, onClose() {} });
  tunnel.write(hello.slice(0, 10));
  assert.equal(names, [], "not opened before the hello is whole");
  tunnel.write(hello.slice(10));
  tunnel.write(new Uint8Array([9]));
  assert.equal(names, ["shop.example.com"]);
  opened();
  await Promise.resolve();
  assert.equal([...join(upstream.written)], [...hello, 9]);
  tunnel.write(new Uint8Array([7]));
  assert.equal([...upstream.written.at(-1)!], [7]);
  upstream.sink!.onData(new Uint8Array([5]));
  assert.equal([...join(fromUpstream)], [5]);
  tunnel.end();
  assert.ok(upstream.ended);
});

test("SniTunnel: no upstream (no route) closes the tunnel; a client gone before its hello opens nothing", async () => {
  const hello = await clientHello("nowhere.example");
  let closed: Error | null | undefined;
  const refused = new SniTunnel(async () => ({ flags: "NR", details: "no_route" }));
  refused.attach({ onData() {}, onDrain() {}, onClose: (e) => (closed = e) });
  refused.write(hello);
  await Promise.resolve();
  await Promise.resolve();
  assert.is(closed, null);

  let calls = 0;
  const early = new SniTunnel(async () => {
    calls++;
    return { flags: "NR", details: "no_route" };
  });
  let earlyClosed = false;
  early.attach({ onData() {}, onDrain() {}, onClose: () => (earlyClosed = true) });
  early.write(new Uint8Array([0x16, 3, 1]));
  early.end();
  assert.is(calls, 0);
  assert.ok(earlyClosed);
});

test.run();
