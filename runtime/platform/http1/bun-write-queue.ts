// What a Bun socket did not take: Bun's write() returns how many bytes the kernel accepted and
// buffers nothing, so the rest is queued here and written on the socket's drain. Shared by the
// client's transport (bun-transport.ts) and the server's accepted sockets (bun-listen.ts). An array
// written out whole is reported to read-buffers.ts, which frees a lent one at once.
import { WRITE_HIGH_WATER } from "./transport.ts";
import { written } from "../read-buffers.ts";

interface Writable {
  write(data: Uint8Array): number;
}

export class BunWriteQueue {
  /** arrays as the caller wrote them; the first is out up to `sent` bytes */
  queue: Uint8Array[] = [];
  sent = 0;
  queued = 0;

  /** writes or queues data; false once the caller should wait for the drain */
  write(socket: Writable, data: Uint8Array): boolean {
    if (this.queued > 0) {
      this.queue.push(data);
      this.queued += data.byteLength;
      return this.queued < WRITE_HIGH_WATER;
    }
    const n = socket.write(data);
    if (n === data.byteLength) {
      written(data);
      return true;
    }
    this.queue.push(data);
    this.sent = Math.max(n, 0);
    this.queued = data.byteLength - this.sent;
    return this.queued < WRITE_HIGH_WATER;
  }

  /** on the socket's drain: writes what is queued; true once nothing is left */
  flush(socket: Writable): boolean {
    while (this.queue.length) {
      const head = this.queue[0];
      const rest = this.sent === 0 ? head : head.subarray(this.sent);
      const n = socket.write(rest);
      if (n < rest.byteLength) {
        if (n > 0) {
          this.sent += n;
          this.queued -= n;
        }
        return false;
      }
      this.queue.shift();
      this.sent = 0;
      this.queued -= n;
      written(head);
    }
    return true;
  }

  clear(): void {
    this.queue.length = 0;
    this.sent = 0;
    this.queued = 0;
  }
}
