// What a Bun socket did not take: Bun's write() returns how many bytes the kernel accepted and
// buffers nothing, so the rest is queued here and written on the socket's drain. Shared by the
// client's transport (bun-transport.ts) and the server's accepted sockets (bun-listen.ts).
import { WRITE_HIGH_WATER } from "./transport.ts";

interface Writable {
  write(data: Uint8Array): number;
}

export class BunWriteQueue {
  queue: Uint8Array[] = [];
  queued = 0;

  /** writes or queues data; false once the caller should wait for the drain */
  write(socket: Writable, data: Uint8Array): boolean {
    if (this.queued > 0) {
      this.queue.push(data);
      this.queued += data.byteLength;
      return this.queued < WRITE_HIGH_WATER;
    }
    const n = socket.write(data);
    if (n === data.byteLength) return true;
    const rest = n > 0 ? data.subarray(n) : data;
    this.queue.push(rest);
    this.queued = rest.byteLength;
    return this.queued < WRITE_HIGH_WATER;
  }

  /** on the socket's drain: writes what is queued; true once nothing is left */
  flush(socket: Writable): boolean {
    while (this.queue.length) {
      const head = this.queue[0];
      const n = socket.write(head);
      if (n < head.byteLength) {
        if (n > 0) {
          this.queue[0] = head.subarray(n);
          this.queued -= n;
        }
        return false;
      }
      this.queue.shift();
      this.queued -= n;
    }
    return true;
  }

  clear(): void {
    this.queue.length = 0;
    this.queued = 0;
  }
}
