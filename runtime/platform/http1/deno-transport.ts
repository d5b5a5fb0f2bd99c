// Transport on Deno.connect: Deno's own TCP ops (its node:net is a JS layer over the same ops).
// One read at a time, not re-armed while paused; writes go out one queued chunk at a time.
import { WRITE_HIGH_WATER, type Connect, type Transport, type TransportHandler } from "./transport.ts";
import { noteRead } from "../read-garbage.ts";
import { delivered, readBuffer, written } from "../read-buffers.ts";

interface DenoTcpConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(on?: boolean): void;
  ref(): void;
  unref(): void;
}

interface DenoConnect {
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoTcpConn>;
}

const D = (globalThis as unknown as { Deno: DenoConnect }).Deno;
// Each connection holds one read buffer (a pending read holds it, so connections cannot share one).
// A small read is copied out of it; a large one is handed on in it and the next read takes another
// (read-buffers.ts), which comes back once written. 16 KiB holds any usual request or response
// head, and measured 64 KiB cost ~40 KB of memory per idle connection (docs/memory-findings.md).

export class DenoTransport implements Transport {
  conn: DenoTcpConn | null = null;
  done = false;
  paused = false;
  referenced = true;
  reading = false;
  writing = false;
  wasFull = false;
  /** arrays as the caller wrote them; the first is out up to `sent` bytes */
  queue: Uint8Array[] = [];
  sent = 0;
  queued = 0;
  buffer = readBuffer();
  readonly connecting = new AbortController();

  /** end() was called while writes were queued: FIN once they are out */
  ending = false;

  constructor(public handler: TransportHandler) {}

  opened(conn: DenoTcpConn): void {
    if (this.done) {
      conn.close();
      return;
    }
    this.conn = conn;
    if (!this.referenced) conn.unref();
    this.handler.onOpen();
    if (!this.paused && !this.done) this.read();
  }

  // Reads and writes chain through these per-connection callbacks: no async frames per request.
  private read(): void {
    this.reading = true;
    this.conn!.read(this.buffer).then(this.onRead, this.onError);
  }

  private readonly onRead = (n: number | null): void => {
    this.reading = false;
    if (this.done) return;
    if (n === null) {
      this.closed(null);
      return;
    }
    noteRead(n);
    const chunk = delivered(this.buffer, n);
    if (chunk.buffer === this.buffer.buffer) this.buffer = readBuffer(); // lent: the next read needs another buffer
    this.handler.onData(chunk);
    if (!this.paused && !this.done && !this.reading) this.read();
  };

  private readonly onError = (error: Error): void => this.closed(error);

  write(data: Uint8Array): boolean {
    if (this.done || !this.conn) return true;
    this.queue.push(data);
    this.queued += data.byteLength;
    if (!this.writing) this.flush();
    if (this.queued < WRITE_HIGH_WATER) return true;
    // the caller now waits for onDrain: it must come when the queue empties, however the queue
    // shrank in between (a write already in flight does not pass through flush's check)
    this.wasFull = true;
    return false;
  }

  private flush(): void {
    this.writing = true;
    if (this.queued >= WRITE_HIGH_WATER) this.wasFull = true;
    const head = this.queue[0];
    this.conn!.write(this.sent === 0 ? head : head.subarray(this.sent)).then(this.onWritten, this.onError);
  }

  private readonly onWritten = (n: number): void => {
    this.writing = false;
    if (this.done) return;
    this.queued -= n;
    const head = this.queue[0];
    this.sent += n;
    if (this.sent === head.byteLength) {
      this.queue.shift();
      this.sent = 0;
      written(head);
    }
    if (this.queue.length) this.flush();
    else if (this.ending) this.end();
    else if (this.wasFull) {
      this.wasFull = false;
      this.handler.onDrain();
    }
  };

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    try {
      this.conn?.close();
    } catch {
      // already closed
    }
    this.handler.onClose(error);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.conn && !this.reading && !this.done) this.read();
  }

  ref(on: boolean): void {
    this.referenced = on;
    if (on) this.conn?.ref();
    else this.conn?.unref();
  }

  end(): void {
    const conn = this.conn;
    if (this.done) return;
    if (!conn) return this.destroy();
    // a server ends right after its last response: that must go out before the FIN
    if (this.writing) {
      this.ending = true;
      return;
    }
    this.ending = false;
    conn.closeWrite().catch(this.onError);
    this.paused = false;
    if (!this.reading) this.read();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    if (this.conn) {
      try {
        this.conn.close();
      } catch {
        // already closed
      }
    } else this.connecting.abort();
  }
}

export const denoConnect: Connect = (host, port, handler) => {
  const transport = new DenoTransport(handler);
  D.connect({ hostname: host, port, signal: transport.connecting.signal }).then(
    (conn) => transport.opened(conn),
    (error: Error) => {
      if (!transport.done) transport.closed(error);
    },
  );
  return transport;
};
