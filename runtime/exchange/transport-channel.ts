// A Transport as a ByteChannel: what an HTTP/1.1 connection becomes after its 101 (on either side
// of the proxy). The connection object stays the transport's handler and passes its events here;
// bytes that arrived before anyone attached (read past the head, or while the 101 went out) are
// kept and delivered first, as is a close that came first.
import type { Transport } from "../platform/http1/transport.ts";
import type { ByteChannel, ByteSink } from "./types.ts";

export class TransportChannel implements ByteChannel {
  private sink: ByteSink | null = null;
  private pending: Uint8Array[];
  /** the transport closed before attach: undefined while open */
  private closedWith: Error | null | undefined = undefined;
  private gone = false;

  constructor(
    readonly transport: Transport,
    leftover: Uint8Array[],
    /** the transport is finished with (closed, or destroyed by us): the owner's bookkeeping */
    private readonly onGone: () => void,
  ) {
    this.pending = leftover;
  }

  attach(sink: ByteSink): void {
    this.sink = sink;
    const pending = this.pending;
    this.pending = [];
    for (const bytes of pending) sink.onData(bytes);
    if (this.closedWith !== undefined) sink.onClose(this.closedWith);
  }

  // ---- from the owner's TransportHandler ----

  data(bytes: Uint8Array): void {
    if (this.sink) this.sink.onData(bytes);
    else this.pending.push(bytes);
  }

  drain(): void {
    this.sink?.onDrain();
  }

  closed(error: Error | null): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone();
    if (this.sink) this.sink.onClose(error);
    else this.closedWith = error;
  }

  // ---- ByteChannel ----

  write(bytes: Uint8Array): boolean {
    return this.gone ? true : this.transport.write(bytes);
  }

  pause(): void {
    if (!this.gone) this.transport.pause();
  }

  resume(): void {
    if (!this.gone) this.transport.resume();
  }

  end(): void {
    if (!this.gone) this.transport.end();
  }

  destroy(): void {
    if (this.gone) return;
    this.gone = true;
    this.transport.destroy();
    this.onGone();
  }
}
