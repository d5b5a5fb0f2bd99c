// Plain TCP for the L4 proxy on Bun's native sockets (Bun.listen / Bun.connect with allowHalfOpen):
// the same ByteChannel contract as the node:net version in tcp.ts, without node:net's stream layer,
// which a profile of a gateway relaying 64-byte echoes showed costing as much as the relay itself
// (events, Buffer wrapping, the streams queue; docs/performance.md "TCP rows"). Half-close: the
// peer's FIN is reported as onClose(null) while this side stays writable; end() sends our FIN after
// anything queued.
import type { Socket, TCPSocketConnectOptions, TCPSocketListener, TCPSocketListenOptions } from "bun";
import type { ByteChannel, ByteSink } from "../exchange/types.ts";
import { BunWriteQueue } from "./http1/bun-write-queue.ts";
import { handedOn } from "./read-buffers.ts";
import type { SocketServer } from "./types.ts";
import type { TcpConnInfo, TcpServeOptions } from "./tcp.ts";
import { TcpConnectError } from "./tcp.ts";

// pause/resume exist on Bun's sockets but are missing from bun-types
type BunSocket = Socket<BunTcpChannel> & { pause(): void; resume(): void };

class BunTcpChannel implements ByteChannel {
  socket!: BunSocket;
  private sink: ByteSink | null = null;
  /** bytes read before attach (the route is chosen meanwhile) */
  private early: Uint8Array[] = [];
  private readonly queue = new BunWriteQueue();
  /** end() asked while writes were queued: FIN once they are out */
  private ending = false;
  private ended = false;
  /** the peer's FIN or the connection's end, seen before attach */
  private finished: { error: Error | null } | null = null;
  private reported = false;
  closed = false;

  attach(sink: ByteSink): void {
    this.sink = sink;
    const early = this.early;
    this.early = [];
    for (const bytes of early) sink.onData(bytes);
    if (this.finished) this.report(this.finished.error);
    else this.socket.resume();
  }

  data(bytes: Uint8Array): void {
    if (this.sink) this.sink.onData(bytes);
    else this.early.push(bytes);
  }

  drained(): void {
    if (this.closed || !this.queue.flush(this.socket)) return;
    if (this.ending) return this.finishEnd();
    this.sink?.onDrain();
  }

  /** the peer's FIN (half-close: we may still write) or the socket's end */
  report(error: Error | null): void {
    if (!this.sink) {
      this.finished ??= { error };
      return;
    }
    if (this.reported) return;
    this.reported = true;
    this.sink.onClose(error);
  }

  write(bytes: Uint8Array): boolean {
    if (this.closed || this.ended || this.ending) return true;
    return this.queue.write(this.socket, bytes);
  }

  pause(): void {
    if (!this.closed) this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  end(): void {
    if (this.closed || this.ended || this.ending) return;
    if (this.queue.queued > 0) this.ending = true;
    else this.finishEnd();
  }

  private finishEnd(): void {
    this.ending = false;
    this.ended = true;
    this.socket.shutdown();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.clear();
    this.socket.terminate();
  }
}

const handlers = {
  data: (socket: BunSocket, bytes: Uint8Array) => socket.data.data(handedOn(bytes)),
  drain: (socket: BunSocket) => socket.data.drained(),
  end: (socket: BunSocket) => socket.data.report(null),
  close: (socket: BunSocket, error?: Error) => {
    const channel = socket.data;
    channel.closed = true;
    channel.report(error ?? null);
  },
  error: (socket: BunSocket, error: Error) => socket.data.report(error),
};

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) → "10.0.0.1" */
const stripMapped = (address: string) => (address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address);

export function bunServeTcp(options: TcpServeOptions): Promise<SocketServer> {
  const channels = new Set<BunTcpChannel>();
  let listener: TCPSocketListener<BunTcpChannel>;
  try {
    listener = Bun.listen<BunTcpChannel>({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: {
        ...handlers,
        open(raw: Socket<BunTcpChannel>) {
          const socket = raw as BunSocket;
          const channel = new BunTcpChannel();
          channel.socket = socket;
          socket.data = channel;
          socket.setNoDelay(true);
          // nothing is read until the proxy attaches its sink (the route is chosen first)
          socket.pause();
          channels.add(channel);
          const address = (socket as unknown as { localAddress?: string; localPort?: number });
          const conn: TcpConnInfo = { remoteAddress: stripMapped(socket.remoteAddress), remotePort: (socket as unknown as { remotePort?: number }).remotePort ?? 0, localAddress: stripMapped(address.localAddress ?? options.hostname), localPort: address.localPort ?? listener.port };
          options.onConnection(channel, conn);
        },
        close(raw: Socket<BunTcpChannel>, error?: Error) {
          channels.delete((raw as BunSocket).data);
          handlers.close(raw as BunSocket, error);
        },
      },
    } as unknown as TCPSocketListenOptions<BunTcpChannel>);
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve({
    hostname: options.hostname,
    port: listener.port,
    connections: () => channels.size,
    async stop(force = false) {
      listener.stop(force);
      if (force) for (const c of channels) c.destroy();
    },
  });
}

export function bunConnectTcp(host: string, port: number, timeoutMs: number): Promise<ByteChannel> {
  return new Promise((resolve, reject) => {
    const channel = new BunTcpChannel();
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      if (channel.socket) channel.destroy();
      reject(new TcpConnectError("connect-timeout", `connect to ${host}:${port} timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    Bun.connect<BunTcpChannel>({
      hostname: host,
      port,
      allowHalfOpen: true,
      data: channel,
      socket: {
        ...handlers,
        open(raw: Socket<BunTcpChannel>) {
          const socket = raw as BunSocket;
          channel.socket = socket;
          if (settled) return void socket.terminate();
          settled = true;
          clearTimeout(timer);
          socket.setNoDelay(true);
          socket.pause();
          resolve(channel);
        },
        connectError(_raw: Socket<BunTcpChannel>, error: Error) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(new TcpConnectError("connect", `connect to ${host}:${port} failed: ${error.message}`));
        },
      },
    } as unknown as TCPSocketConnectOptions<BunTcpChannel>).catch((error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new TcpConnectError("connect", `connect to ${host}:${port} failed: ${error.message}`));
    });
  });
}
