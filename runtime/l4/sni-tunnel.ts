// The upstream side of a CONNECT tunnel to a TLS port routed by SNI (a sidecar's outbound): the
// CONNECT is answered 200 first, because the ClientHello only comes after it; the client's first
// bytes are held until they hold the ClientHello, whose server name chooses the `tls` route; then
// the upstream is opened and the held bytes go first. A tunnel whose upstream cannot be opened is
// closed (the client sees the connection end before a ServerHello, as with Envoy's tcp_proxy).
import type { ByteChannel, ByteSink } from "../exchange/types.ts";
import { helloRecordLength, parseClientHello } from "../security/client-hello.ts";
import type { TunnelResult } from "./tcp-proxy.ts";

const MAX_HELLO_BYTES = 5 + 16_384;

/** open(serverName) is called once, with the SNI (undefined when the client sent none or no TLS) */
export class SniTunnel implements ByteChannel {
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private sink: ByteSink | null = null;
  private inner: ByteChannel | null = null;
  private opening = false;
  private ended = false;
  private destroyed = false;
  private paused = false;
  /** the tunnel closed without an upstream: reported to the sink once it is attached */
  private failed = false;

  constructor(private readonly open: (serverName: string | undefined) => Promise<TunnelResult>) {}

  attach(sink: ByteSink): void {
    this.sink = sink;
    if (this.inner) this.inner.attach(sink);
    else if (this.failed) sink.onClose(null);
  }

  write(bytes: Uint8Array): boolean {
    if (this.inner) return this.inner.write(bytes);
    if (this.destroyed || this.failed) return true;
    this.held.push(bytes.slice());
    this.heldBytes += bytes.byteLength;
    if (!this.opening) {
      const all = this.joined();
      const need = helloRecordLength(all);
      if (need < 0 || all.byteLength >= Math.min(need, MAX_HELLO_BYTES)) {
        const hello = need < 0 ? "not TLS" : parseClientHello(all);
        this.start(typeof hello === "string" ? undefined : hello.serverName);
      }
    }
    // the hello is at most one record; past it, wait for the upstream before taking more
    return this.heldBytes < MAX_HELLO_BYTES;
  }

  private joined(): Uint8Array {
    if (this.held.length === 1) return this.held[0];
    const out = new Uint8Array(this.heldBytes);
    let at = 0;
    for (const part of this.held) {
      out.set(part, at);
      at += part.byteLength;
    }
    this.held = [out];
    return out;
  }

  private start(serverName: string | undefined): void {
    this.opening = true;
    this.open(serverName).then(
      (result) => this.opened("channel" in result ? result.channel : null),
      () => this.opened(null),
    );
  }

  private opened(channel: ByteChannel | null): void {
    if (!channel) {
      this.failed = true;
      this.held = [];
      this.sink?.onClose(null);
      return;
    }
    if (this.destroyed) return channel.destroy();
    this.inner = channel;
    if (this.sink) channel.attach(this.sink);
    if (this.paused) channel.pause();
    let drained = true;
    for (const part of this.held) drained = channel.write(part);
    this.held = [];
    if (this.ended) channel.end();
    // writes were taken while opening: the downstream may be waiting for a drain
    else if (drained) this.sink?.onDrain();
  }

  pause(): void {
    this.paused = true;
    this.inner?.pause();
  }

  resume(): void {
    this.paused = false;
    this.inner?.resume();
  }

  end(): void {
    if (this.inner) return this.inner.end();
    this.ended = true;
    // the client finished before any ClientHello: nothing to route
    if (!this.opening) this.destroy();
  }

  destroy(): void {
    if (this.inner) return this.inner.destroy();
    this.destroyed = true;
    if (!this.opening && !this.failed) {
      this.failed = true;
      this.sink?.onClose(null);
    }
  }
}
