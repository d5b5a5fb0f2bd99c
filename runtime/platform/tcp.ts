// Plain TCP for the L4 proxy (gateway servers with protocol TCP, passthrough, tunnels): a listener
// whose accepted connections, and an outgoing connection, are ByteChannels that splice() joins, with
// half-close: the client's FIN must reach the upstream while the upstream's reply still flows back
// (the HTTP transports in http1/ treat a FIN as the end of the connection). On Bun, its native
// sockets (bun-tcp.ts: measured, node:net's stream layer cost as much as the relay); on Deno,
// node:net (allowHalfOpen), which Deno implements.
import type * as NodeNet from "node:net";
import type { ByteChannel, ByteSink } from "../exchange/types.ts";
import type { ConnInfo, SocketServer } from "./types.ts";
import { bunConnectTcp, bunServeTcp } from "./bun-tcp.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

// node:net only where it is used (Deno): on Bun the native sockets of bun-tcp.ts carry TCP, and
// node:net is a few ms of cold start that a mesh in process need not pay
let net: typeof NodeNet | undefined;
const loadNet = async () => (net ??= await import("node:net"));

/** what the L4 proxy knows of an accepted connection: both ends' addresses */
export interface TcpConnInfo extends ConnInfo {
  /** the address the client connected to (destinationSubnets match on it) */
  localAddress: string;
  localPort: number;
}

/** a node:net socket as one side of a byte stream; a peer's FIN is onClose(null), the socket stays writable */
export class NetChannel implements ByteChannel {
  private sink: ByteSink | null = null;
  private reported = false;

  constructor(readonly socket: NodeNet.Socket) {
    // errors before attach (a reset while the route is chosen) must not be unhandled
    socket.on("error", (error: Error) => this.report(error));
  }

  attach(sink: ByteSink): void {
    this.sink = sink;
    const socket = this.socket;
    socket.on("data", (chunk: Uint8Array) => sink.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    socket.on("drain", () => sink.onDrain());
    socket.on("end", () => this.report(null));
    socket.on("close", () => this.report(null));
    if (socket.destroyed) this.report(null);
    // paused until now (pauseOnConnect, or paused at connect): without a sink, bytes would be lost
    socket.resume();
  }

  private report(error: Error | null): void {
    if (this.reported || !this.sink) {
      if (error && !this.sink) this.socket.destroy();
      return;
    }
    this.reported = true;
    this.sink.onClose(error);
  }

  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return true;
    return this.socket.write(bytes);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface TcpServeOptions {
  hostname: string;
  port: number; // 0 = let the OS choose
  onConnection(channel: ByteChannel, conn: TcpConnInfo): void;
}

/** listens; resolves once bound (rejects when the port cannot be bound) */
export async function serveTcp(options: TcpServeOptions): Promise<SocketServer> {
  if (isBun) return bunServeTcp(options);
  const net = await loadNet();
  const sockets = new Set<NodeNet.Socket>();
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    options.onConnection(new NetChannel(socket), {
      remoteAddress: stripMapped(socket.remoteAddress ?? ""),
      remotePort: socket.remotePort ?? 0,
      localAddress: stripMapped(socket.localAddress ?? ""),
      localPort: socket.localPort ?? 0,
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      const port = (server.address() as NodeNet.AddressInfo).port;
      resolve({
        hostname: options.hostname,
        port,
        connections: () => sockets.size,
        stop: (force = false) =>
          new Promise<void>((done) => {
            server.close(() => done());
            if (force) for (const s of sockets) s.destroy();
            else if (!sockets.size) done();
          }),
      });
    });
  });
}

export type TcpConnectFailure = "connect" | "connect-timeout";

export class TcpConnectError extends Error {
  constructor(readonly failure: TcpConnectFailure, message: string) {
    super(message);
  }
}

/** connects to host:port (no brackets); the channel is returned once the handshake completed */
export async function connectTcp(host: string, port: number, timeoutMs: number): Promise<ByteChannel> {
  if (isBun) return bunConnectTcp(host, port, timeoutMs);
  const net = await loadNet();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true } as NodeNet.NetConnectOpts);
    socket.pause();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TcpConnectError("connect-timeout", `connect to ${host}:${port} timed out after ${timeoutMs}ms`));
    }, timeoutMs);
    const failed = (error: Error) => {
      clearTimeout(timer);
      reject(new TcpConnectError("connect", `connect to ${host}:${port} failed: ${error.message}`));
    };
    socket.once("error", failed);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", failed);
      socket.setNoDelay(true);
      const channel = new NetChannel(socket);
      resolve(channel);
    });
  });
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) → "10.0.0.1" */
function stripMapped(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
