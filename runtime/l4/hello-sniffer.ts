// Reads a connection's TLS ClientHello without terminating it (Envoy's tls_inspector), for ports
// routed by SNI: the bytes read are kept and handed on first, so the upstream sees the client's
// handshake untouched. The channel returned replays them to whoever attaches next (the splice).
import type { ByteChannel, ByteSink } from "../exchange/types.ts";
import type { Clock } from "../lib/clock.ts";
import { helloRecordLength, parseClientHello } from "../security/client-hello.ts";

/** a record holds at most 16 KiB; with its header, the most a ClientHello read can need */
const MAX_HELLO_BYTES = 5 + 16_384;

/** what sniffing found: the name (absent when the client sent none or spoke no TLS), and the channel to proxy */
export interface Sniffed {
  channel: ByteChannel;
  serverName?: string;
  /** why no name was read: "not a TLS handshake", "truncated record", … */
  problem?: string;
}

/**
 * Reads the first record of channel (waiting at most timeoutMs for it). Resolves undefined when the
 * client closed or the time ran out first — the caller closes it, as Envoy does with no filter chain.
 */
export function sniffClientHello(channel: ByteChannel, clock: Clock, timeoutMs: number): Promise<Sniffed | undefined> {
  const replay = new ReplayChannel(channel);
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => settle(undefined), timeoutMs);
    let settled = false;
    function settle(result: Sniffed | undefined): void {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      replay.stopSniffing();
      if (!result) channel.destroy();
      resolve(result);
    }
    replay.sniff(
      (bytes) => {
        const need = helloRecordLength(bytes);
        if (need < 0) return settle({ channel: replay, problem: "not a TLS handshake" });
        if (bytes.byteLength < Math.min(need, MAX_HELLO_BYTES)) return;
        const hello = parseClientHello(bytes);
        settle(typeof hello === "string" ? { channel: replay, problem: hello } : { channel: replay, serverName: hello.serverName });
      },
      () => settle(undefined),
    );
  });
}

/**
 * A channel attached once to the connection: while sniffing, bytes accumulate and go to onBytes
 * (all of them so far); afterwards the first attach() gets them before anything newer.
 */
class ReplayChannel implements ByteChannel {
  private held: Uint8Array = new Uint8Array(0);
  private sink: ByteSink | null = null;
  private sniffer: { onBytes(all: Uint8Array): void; onClose(): void } | null = null;
  private closed: Error | null | undefined;

  constructor(private readonly inner: ByteChannel) {}

  sniff(onBytes: (all: Uint8Array) => void, onClose: () => void): void {
    this.sniffer = { onBytes, onClose };
    this.inner.attach({
      onData: (bytes) => {
        if (this.sink) return this.sink.onData(bytes);
        this.held = concat(this.held, bytes);
        this.sniffer?.onBytes(this.held);
      },
      onDrain: () => this.sink?.onDrain(),
      onClose: (error) => {
        if (this.sink) return this.sink.onClose(error);
        this.closed = error;
        this.sniffer?.onClose();
      },
    });
  }

  /** no more bytes until attach(): the route is being chosen and the upstream opened */
  stopSniffing(): void {
    this.sniffer = null;
    if (this.closed === undefined) this.inner.pause();
  }

  attach(sink: ByteSink): void {
    this.sink = sink;
    const held = this.held;
    this.held = new Uint8Array(0);
    if (held.byteLength) sink.onData(held);
    if (this.closed !== undefined) return sink.onClose(this.closed);
    this.inner.resume();
  }

  write(bytes: Uint8Array): boolean {
    return this.inner.write(bytes);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  end(): void {
    this.inner.end();
  }
  destroy(): void {
    this.inner.destroy();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!a.byteLength) return b.slice();
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
