// A tunnel's upstream side as a ByteChannel that counts bytes both ways and reports once when the
// connection is over, for tunnels whose splice someone else owns (the HTTP/1.1 server's CONNECT):
// the L4 proxy still needs the byte counts and the close for Istio's TCP metrics and the log.
import type { ByteChannel, ByteSink } from "../exchange/types.ts";
/**
 * The upstream of a tunnel spliced elsewhere (the HTTP server's CONNECT): counts bytes each way and
 * calls done once when both directions are over — the upstream closed (onClose) and the downstream
 * side ended or destroyed it.
 */
export class MeteredChannel implements ByteChannel {
  private sent = 0;
  private received = 0;
  private upstreamDone = false;
  private downstreamDone = false;
  private reported = false;

  constructor(
    private readonly inner: ByteChannel,
    private readonly done: (sent: number, received: number) => void,
  ) {}

  attach(sink: ByteSink): void {
    this.inner.attach({
      onData: (bytes) => {
        this.sent += bytes.byteLength;
        sink.onData(bytes);
      },
      onDrain: () => sink.onDrain(),
      onClose: (error) => {
        this.upstreamDone = true;
        sink.onClose(error);
        this.check();
      },
    });
  }

  write(bytes: Uint8Array): boolean {
    this.received += bytes.byteLength;
    return this.inner.write(bytes);
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  end(): void {
    this.downstreamDone = true;
    this.inner.end();
    this.check();
  }

  destroy(): void {
    this.upstreamDone = this.downstreamDone = true;
    this.inner.destroy();
    this.check();
  }

  private check(): void {
    if (this.reported || !this.upstreamDone || !this.downstreamDone) return;
    this.reported = true;
    this.done(this.sent, this.received);
  }
}
