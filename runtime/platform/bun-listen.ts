// Listeners on Bun's native sockets (Bun.listen), plaintext or TLS, each accepted connection handed
// to a runtime-neutral handler (dietmesh's HTTP/1.1 server) through the same Transport contract the
// HTTP/1.1 client uses. Bun.serve is not used on the data path: it cannot show a handler the
// client's certificate, and its server lets ambiguous requests through (see exchange/http1/).
//
// TLS is terminated natively: client certificates are requested, verified against the trust
// bundle by the TLS library (rejectUnauthorized), and checked once per connection again by
// verifyPeer (the SPIFFE rules), before the first byte reaches the handler. With tls.http2 (see
// http2-alpn.ts) h2 is offered by ALPN as well: a connection that negotiates it is handed, with its
// peer, to node:http2 over the same native TLS socket; the others go to the handler as before.
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { Transport, TransportHandler } from "./http1/transport.ts";
import { BunWriteQueue } from "./http1/bun-write-queue.ts";
import { noteRead } from "./read-garbage.ts";
import { handedOn } from "./read-buffers.ts";
import type { SocketServeOptions, SocketServer } from "./types.ts";
import { uriSans } from "./uri-sans.ts";
import { H2, MESH_ALPN, serveH2Connection, type H2Connection, type MeshTlsOptions } from "./http2-alpn.ts";

type BunSocket = Socket<ServerSocket> & { pause(): void; resume(): void };

/** one accepted connection as a Transport; writes the kernel did not take are queued here */
class ServerSocket implements Transport {
  handler: TransportHandler | null = null;
  done = false;
  readonly pending = new BunWriteQueue();
  /** bytes that arrived before the handler was attached (during the peer check) */
  early: Uint8Array[] | null = null;

  constructor(
    readonly socket: BunSocket,
    readonly owner: BunSocketServer,
  ) {}

  write(data: Uint8Array): boolean {
    if (this.done) return true;
    return this.pending.write(this.socket, data);
  }

  drained(): void {
    if (this.done || !this.pending.flush(this.socket)) return;
    if (this.ending) return this.finishEnd();
    this.handler?.onDrain();
  }

  data(chunk: Uint8Array): void {
    if (this.done) return;
    if (this.handler) this.handler.onData(chunk);
    else (this.early ??= []).push(chunk);
  }

  attach(handler: TransportHandler): void {
    this.handler = handler;
    const early = this.early;
    this.early = null;
    if (early) for (const chunk of early) if (!this.done) handler.onData(chunk);
  }

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.owner.sockets.delete(this);
    this.socket.terminate();
    this.handler?.onClose(error);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  ref(): void {}

  ending = false;

  end(): void {
    if (this.done) return;
    if (this.pending.queued > 0) {
      this.ending = true;
      return;
    }
    this.finishEnd();
  }

  finishEnd(): void {
    // FIN after what is written; the peer's close (or a reset) ends the socket: onClose
    this.ending = false;
    this.socket.resume();
    this.socket.shutdown();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.owner.sockets.delete(this);
    this.pending.clear();
    this.socket.terminate();
  }
}

class BunSocketServer {
  readonly sockets = new Set<ServerSocket>();
  readonly h2Connections = new Set<H2Connection>();
  draining = false;
  listener!: TCPSocketListener<ServerSocket>;

  constructor(readonly options: SocketServeOptions) {}

  opened(socket: BunSocket): void {
    const s = new ServerSocket(socket, this);
    socket.data = s;
    if (this.draining) return s.destroy();
    this.sockets.add(s);
    socket.setNoDelay(true);
    if (!this.options.tls) this.admit(s, { remoteAddress: socket.remoteAddress, remotePort: remotePortOf(socket), localAddress: socket.localAddress, localPort: socket.localPort });
  }

  async handshaken(s: ServerSocket, success: boolean, error: Error | null): Promise<void> {
    const remoteAddress = s.socket.remoteAddress;
    const tls = this.options.tls!;
    if (!success) return this.refuse(s, `TLS handshake failed: ${error?.message ?? "unknown"}`);
    const conn = { remoteAddress, remotePort: remotePortOf(s.socket), localAddress: s.socket.localAddress, localPort: s.socket.localPort, sni: s.socket.getServername?.() || undefined, secure: true } as Parameters<SocketServeOptions["onConnection"]>[1];
    if (tls.clientCertificate) {
      const peer = s.socket.getPeerCertificate() as { raw?: Uint8Array; subjectaltname?: string } | null;
      if (!peer?.raw) return this.refuse(s, "no client certificate");
      const der = new Uint8Array(peer.raw);
      s.socket.pause();
      const problem = this.options.verifyPeer ? await this.options.verifyPeer(der) : "no peer verifier configured";
      if (s.done) return;
      s.socket.resume();
      if (problem) return this.refuse(s, `client certificate refused: ${problem}`);
      conn.peer = { uris: uriSans(peer.subjectaltname), der };
    }
    this.admit(s, conn);
  }

  admit(s: ServerSocket, conn: Parameters<SocketServeOptions["onConnection"]>[1]): void {
    const http2 = (this.options.tls as MeshTlsOptions | undefined)?.http2;
    if (http2 && (s.socket as unknown as { alpnProtocol?: string | false | null }).alpnProtocol === H2) {
      const h2: H2Connection = serveH2Connection(http2, s, (handler) => s.attach(handler), conn, () => this.h2Connections.delete(h2));
      this.h2Connections.add(h2);
      return;
    }
    s.attach(this.options.onConnection(s, conn));
  }

  refuse(s: ServerSocket, reason: string): void {
    this.options.onRefused?.(reason, s.socket.remoteAddress);
    s.destroy();
  }
}

/** Bun.listen takes ALPN protocols in their wire form only (each name after its length byte), not a list */
const MESH_ALPN_WIRE = (() => {
  const names = MESH_ALPN.map((name) => new TextEncoder().encode(name));
  const wire = new Uint8Array(names.reduce((n, name) => n + 1 + name.byteLength, 0));
  let at = 0;
  for (const name of names) {
    wire[at++] = name.byteLength;
    wire.set(name, at);
    at += name.byteLength;
  }
  return wire.buffer;
})();

function remotePortOf(socket: BunSocket): number {
  return (socket as unknown as { remotePort?: number }).remotePort ?? 0;
}

const handlers: SocketHandler<ServerSocket> = {
  binaryType: "uint8array",
  open(socket) {
    (socket as unknown as { data: { server: BunSocketServer } }).data.server.opened(socket as BunSocket);
  },
  handshake(socket, success, error) {
    const s = socket.data;
    void s.owner.handshaken(s, success, error);
  },
  data(socket, chunk) {
    noteRead(chunk.byteLength);
    socket.data.data(handedOn(chunk));
  },
  drain(socket) {
    socket.data.drained();
  },
  end(socket) {
    socket.data.closed(null);
  },
  close(socket, error) {
    socket.data?.closed?.(error ?? null);
  },
  error(socket, error) {
    socket.data?.closed?.(error);
  },
};

export function bunServeSockets(options: SocketServeOptions): SocketServer {
  const server = new BunSocketServer(options);
  const credentials = options.tls?.credentials;
  const tls = credentials
    ? {
        cert: credentials.certChainPem,
        key: credentials.keyPem,
        ca: credentials.rootCertsPem,
        requestCert: options.tls!.clientCertificate,
        rejectUnauthorized: options.tls!.clientCertificate,
        ...((options.tls as MeshTlsOptions).http2 ? { ALPNProtocols: MESH_ALPN_WIRE } : {}),
      }
    : undefined;
  // every socket's data starts as { server } and becomes its ServerSocket in open()
  server.listener = Bun.listen({
    hostname: options.hostname,
    port: options.port,
    tls,
    ...(options.reusePort ? { reusePort: true } : {}),
    socket: handlers,
    data: { server } as unknown as ServerSocket,
  });
  const port = server.listener.port;
  return {
    hostname: options.hostname,
    port,
    connections: () => server.sockets.size,
    async stop(force = false) {
      server.draining = true;
      server.listener.stop(false);
      for (const h2 of server.h2Connections) h2.stop(); // GOAWAY: streams in flight finish
      if (force) for (const s of [...server.sockets]) s.destroy();
    },
  };
}
