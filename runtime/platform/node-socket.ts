// A node:net or node:tls socket as a Transport (the contract of http1/transport.ts), so dietmesh's
// own HTTP/1.1 server can run on the sniffing mesh listener as it does on native sockets. node
// streams buffer what the kernel did not take; write() says "wait for drain" past the high water.
import type { Socket } from "node:net";
import type { Transport, TransportHandler } from "./http1/transport.ts";
import { pauseReads, resumeReads } from "./socket-reads.ts";
import { noteRead } from "./read-garbage.ts";
import { handedOn, isLent, written } from "./read-buffers.ts";

export class NodeSocketTransport implements Transport {
  handler: TransportHandler | null = null;
  done = false;
  wantDrain = false;

  constructor(readonly socket: Socket) {}

  /** starts delivering: first (bytes already read off the socket) before anything else */
  attach(handler: TransportHandler, first: Uint8Array | null): void {
    this.handler = handler;
    const socket = this.socket;
    socket.on("data", (chunk: Uint8Array) => {
      if (this.done) return;
      noteRead(chunk.byteLength); // a streamed body's reads are garbage the runtime frees late (read-garbage.ts)
      handler.onData(handedOn(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    });
    socket.on("drain", () => {
      if (this.wantDrain && !this.done) {
        this.wantDrain = false;
        handler.onDrain();
      }
    });
    socket.on("end", () => this.closed(null));
    socket.on("close", () => this.closed(null));
    socket.on("error", (error: Error) => this.closed(error));
    if (first) handler.onData(first);
    if (!this.done) socket.resume();
  }

  /** lent arrays (read-buffers.ts) written with a callback, in write order: each is given back once out */
  private readonly lentOut: Uint8Array[] = [];
  private readonly onLentWritten = (error?: Error | null): void => {
    const chunk = this.lentOut.shift();
    if (chunk && !error) written(chunk);
  };

  write(data: Uint8Array): boolean {
    if (this.done) return true;
    if (isLent(data) ? (this.lentOut.push(data), this.socket.write(data, this.onLentWritten)) : this.socket.write(data)) return true;
    this.wantDrain = true;
    return false;
  }

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    this.handler?.onClose(error);
  }

  pause(): void {
    pauseReads(this.socket);
  }

  resume(): void {
    resumeReads(this.socket);
  }

  ref(): void {}

  end(): void {
    if (this.done) return;
    // FIN after everything written; the peer's close ends the socket (onClose)
    this.socket.end();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
  }
}
