// Transport on Bun.connect: Bun's native sockets, measured faster than node:net on Bun for small
// keep-alive exchanges. One shared handler table; each socket's data slot points at its transport.
// Bun does not buffer a write the kernel did not take, so the unwritten rest is queued here.
// bunConnectTls: the same over Bun's native TLS, for mTLS to other sidecars (see there).
import type { Socket, SocketHandler } from "bun";
import type { TlsCredentials } from "../mesh-listener.ts";
import type { TlsTarget } from "./tls-transport.ts";
import type { Connect, Transport, TransportHandler } from "./transport.ts";
import { BunWriteQueue } from "./bun-write-queue.ts";
import { noteRead } from "../read-garbage.ts";
import { handedOn } from "../read-buffers.ts";
import { uriSans } from "../uri-sans.ts";

// pause/resume exist on Bun's sockets but are missing from bun-types
type BunSocket = Socket<BunTransport> & { pause(): void; resume(): void };

const handlers: SocketHandler<BunTransport> = {
  binaryType: "uint8array",
  open(socket) {
    socket.data.opened(socket as BunSocket);
  },
  data(socket, chunk) {
    noteRead(chunk.byteLength);
    socket.data.handler.onData(handedOn(chunk));
  },
  drain(socket) {
    socket.data.drained();
  },
  end(socket) {
    socket.data.closed(null);
  },
  close(socket, error) {
    socket.data.closed(error ?? null);
  },
  error(socket, error) {
    socket.data.closed(error);
  },
  connectError(socket, error) {
    socket.data.closed(error);
  },
};

// TLS sockets report open at the TCP handshake: the transport opens only once the TLS handshake
// succeeded and the server's identity was accepted (handshake below).
const tlsHandlers: SocketHandler<BunTransport> = {
  ...handlers,
  open() {},
  handshake(socket, success, authorizationError) {
    socket.data.handshaken(socket as BunSocket, success, authorizationError);
  },
};

class BunTransport implements Transport {
  socket: BunSocket | null = null;
  /** set for an mTLS connection: who the server must be */
  target: TlsTarget | null = null;
  done = false;
  paused = false;
  referenced = true;
  readonly pending = new BunWriteQueue();

  constructor(readonly handler: TransportHandler) {}

  opened(socket: BunSocket): void {
    if (this.done) {
      socket.terminate();
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    if (this.paused) socket.pause();
    if (!this.referenced) socket.unref();
    this.handler.onOpen();
  }

  /**
   * Bun.connect has no checkServerIdentity, and its host-name check cannot pass for an SVID (a
   * SPIFFE URI SAN, no DNS name). So the connection is made with rejectUnauthorized off and judged
   * here: the chain must have verified (OpenSSL's verdict comes first; the only error allowed is
   * the host-name mismatch Bun adds after it), and the URI SANs must satisfy the caller's check.
   */
  handshaken(socket: BunSocket, success: boolean, error: Error | null): void {
    if (this.done) return void socket.terminate();
    const code = (error as { code?: string } | null)?.code;
    if (!success && error && code !== "ERR_TLS_CERT_ALTNAME_INVALID") {
      return this.closed(new Error(`TLS handshake with the upstream failed: ${error.message}`));
    }
    const peer = socket.getPeerCertificate() as { subjectaltname?: string } | null;
    const problem = this.target!.verifyPeer(uriSans(peer?.subjectaltname));
    if (problem) return this.closed(new Error(problem));
    this.opened(socket);
  }

  write(data: Uint8Array): boolean {
    const socket = this.socket;
    if (this.done || !socket) return true;
    return this.pending.write(socket, data);
  }

  drained(): void {
    const socket = this.socket;
    if (!socket || this.done) return;
    if (this.pending.flush(socket)) this.handler.onDrain();
  }

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.socket?.terminate();
    this.handler.onClose(error);
  }

  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }

  ref(on: boolean): void {
    this.referenced = on;
    if (on) this.socket?.ref();
    else this.socket?.unref();
  }

  end(): void {
    if (this.done) return;
    if (!this.socket) return this.destroy();
    // Bun's end() closes at once; shutdown() sends FIN and keeps reading until the peer's close.
    // A pooled connection ends only between exchanges, so nothing queued is lost.
    this.pending.clear();
    this.socket.resume();
    this.socket.shutdown();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.pending.clear();
    this.socket?.terminate();
  }
}

export const bunConnect: Connect = (host, port, handler) => {
  const transport = new BunTransport(handler);
  Bun.connect<BunTransport>({ hostname: host, port, socket: handlers, data: transport }).catch((error: Error) =>
    transport.closed(error),
  );
  return transport;
};

// Bun takes PEM texts per connect; one options object per credentials keeps them shared.
const tlsOptions = new WeakMap<TlsCredentials, object>();
function tlsFor(credentials: TlsCredentials): object {
  let options = tlsOptions.get(credentials);
  if (!options) {
    options = { cert: credentials.certChainPem, key: credentials.keyPem, ca: credentials.rootCertsPem, rejectUnauthorized: false };
    tlsOptions.set(credentials, options);
  }
  return options;
}

/**
 * mTLS over Bun's native TLS (measured cheaper per request than node:tls on Bun; see
 * docs/performance.md): our certificate from target.credentials(), the server's chain verified
 * against our roots, its SPIFFE ID checked by target.verifyPeer.
 */
export function bunConnectTls(host: string, port: number, handler: TransportHandler, target: TlsTarget): Transport {
  const transport = new BunTransport(handler);
  transport.target = target;
  const credentials = target.credentials();
  if (!credentials) {
    queueMicrotask(() => transport.closed(new Error("mTLS required but this workload has no certificate")));
    return transport;
  }
  // a DestinationRule's sni: the shared options object copied only for a cluster that sets one
  const tls = target.serverName ? { ...tlsFor(credentials), serverName: target.serverName } : tlsFor(credentials);
  Bun.connect<BunTransport>({ hostname: host, port, tls: tls as never, socket: tlsHandlers, data: transport }).catch(
    (error: Error) => transport.closed(error),
  );
  return transport;
}
