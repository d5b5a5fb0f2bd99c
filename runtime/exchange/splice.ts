// Two byte channels joined both ways: the upgraded connection after a 101, a CONNECT tunnel, a TCP
// connection through a gateway. Bytes go straight from one side's onData to the other's write; a
// side whose peer cannot keep up is paused until that peer drains, so memory stays bounded by the
// transports' write queues. When one side ends, the other is ended after what it has queued; when
// one fails, the other is destroyed. An idle timeout (Envoy's idle_timeout for tunnels and TCP
// proxies) closes both when no byte moved either way for that long.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { ByteChannel, ByteSink } from "./types.ts";

export interface SpliceOptions {
  clock: Clock;
  /** close both sides after this long without a byte either way; 0 = never */
  idleTimeoutMs: number;
}

export interface SpliceResult {
  /** bytes from a to b, and from b to a */
  aToB: number;
  bToA: number;
  /** why it ended: "closed" (a side closed cleanly), "error", "idle", "stopped" */
  reason: "closed" | "error" | "idle" | "stopped";
}

export interface Splice {
  /** settles when both sides are closed */
  readonly done: Promise<SpliceResult>;
  /** ends both sides after what they have queued (drain) */
  stop(): void;
}

/** one direction: what `from` reads is written to `to` */
class Direction implements ByteSink {
  bytes = 0;
  closed = false;
  constructor(
    readonly from: ByteChannel,
    readonly to: ByteChannel,
    readonly owner: SpliceState,
  ) {}

  onData(bytes: Uint8Array): void {
    this.bytes += bytes.byteLength;
    this.owner.active = true;
    if (!this.to.write(bytes)) this.from.pause();
  }

  /** `from` has written what the other direction queued on it: the other side may read again */
  onDrain(): void {
    this.owner.other(this).from.resume();
  }

  onClose(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.sideClosed(this, error);
  }
}

class SpliceState implements Splice {
  readonly aToB: Direction;
  readonly bToA: Direction;
  readonly done: Promise<SpliceResult>;
  active = false;
  reason: SpliceResult["reason"] = "closed";
  timer: TimerHandle | null = null;
  private settle!: (result: SpliceResult) => void;

  constructor(
    readonly a: ByteChannel,
    readonly b: ByteChannel,
    readonly options: SpliceOptions,
  ) {
    this.aToB = new Direction(a, b, this);
    this.bToA = new Direction(b, a, this);
    this.done = new Promise((resolve) => (this.settle = resolve));
    if (options.idleTimeoutMs > 0) this.arm();
    a.attach(this.aToB);
    b.attach(this.bToA);
  }

  other(direction: Direction): Direction {
    return direction === this.aToB ? this.bToA : this.aToB;
  }

  /**
   * `direction.from` finished sending: pass the end on (FIN after what is queued), also when the
   * other direction is already done — a half-closed peer is still waiting for it. An error
   * destroys the other side instead.
   */
  sideClosed(direction: Direction, error: Error | null): void {
    const other = this.other(direction);
    if (error && this.reason === "closed") this.reason = "error";
    if (!error) direction.to.end();
    else if (!other.closed) {
      other.closed = true;
      direction.to.destroy();
    } else {
      // the other side had finished sending (its FIN) but is still open for writing: nothing more
      // can reach it, and an owner counting the channel (l4/metered-channel.ts) learns it is over
      direction.to.destroy();
    }
    if (other.closed) this.finish();
  }

  /** a timer per idle period, not per chunk: activity only sets a flag the timer reads */
  arm(): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      if (this.aToB.closed && this.bToA.closed) return;
      if (this.active) {
        this.active = false;
        return this.arm();
      }
      this.reason = "idle";
      this.destroyBoth();
    }, this.options.idleTimeoutMs);
  }

  stop(): void {
    if (this.aToB.closed && this.bToA.closed) return;
    this.reason = "stopped";
    if (!this.aToB.closed) this.a.end();
    if (!this.bToA.closed) this.b.end();
  }

  destroyBoth(): void {
    const open = [this.aToB, this.bToA].filter((d) => !d.closed);
    for (const d of open) {
      d.closed = true;
      d.from.destroy();
    }
    this.finish();
  }

  finish(): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.settle({ aToB: this.aToB.bytes, bToA: this.bToA.bytes, reason: this.reason });
  }
}

/** joins a and b; bytes each has already buffered are delivered first (attach) */
export function splice(a: ByteChannel, b: ByteChannel, options: SpliceOptions): Splice {
  return new SpliceState(a, b, options);
}
