// The listener for ports that may take (m)TLS and plaintext on the same port: sidecar inbound
// ports with a workload identity (PERMISSIVE, and every mTLS port on Deno, whose own TLS listener
// cannot ask for client certificates) and `dietmesh ca serve`. A node:net server peeks at the first
// byte — 0x16 opens a TLS handshake, anything else is plaintext HTTP — and TLS is terminated by a
// server TLSSocket that requests the client certificate and verifies it against the trust bundle;
// verifyPeer checks it again once per connection (Deno's node:tls lets an untrusted client
// certificate through its handshake). Each admitted connection is handed, as a Transport, to a
// runtime-neutral handler: dietmesh's own HTTP/1.1 server, as on every other listener.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import type { ConnInfo, SocketServer } from "./types.ts";
import type { Transport, TransportHandler } from "./http1/transport.ts";
import { NodeSocketTransport } from "./node-socket.ts";
import { uriSans } from "./uri-sans.ts";

/** PEM texts of a workload identity: its chain (leaf first), key, and the roots it trusts */
export interface TlsCredentials {
  certChainPem: string;
  keyPem: string;
  rootCertsPem: string;
}

/** what a listener lets in on a new connection (asked again for every connection) */
export interface Acceptance {
  plaintext: boolean;
  tls: boolean;
  /** TLS connections must present a certificate that chains to rootCertsPem */
  clientCertificate: boolean;
}

export interface MeshServeOptions {
  hostname: string;
  port: number;
  /** the current credentials; null: no TLS possible */
  credentials(): TlsCredentials | null;
  accept(): Acceptance;
  /**
   * Checks a client certificate after the handshake (null: accepted, else why not). Required with
   * clientCertificate: Deno's node:tls does not refuse an untrusted client certificate itself.
   */
  verifyPeer?(leafDer: Uint8Array): Promise<string | null>;
  /** bind with SO_REUSEPORT (see SocketServeOptions.reusePort) */
  reusePort?: boolean;
  /** a connection was refused (plaintext on a TLS-only port, failed handshake) */
  onRefused?(reason: string, remoteAddress: string): void;
  /** a connection is admitted: returns what handles its bytes */
  onConnection(socket: Transport, conn: ConnInfo): TransportHandler;
}

const TLS_HANDSHAKE = 0x16;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export function serveMesh(options: MeshServeOptions): Promise<SocketServer> {
  let context: { for: TlsCredentials; secure: SecureContext } | undefined;
  const secureContext = (credentials: TlsCredentials): SecureContext => {
    // built once per credentials object: a rotation hands a new object, new connections use it
    if (context?.for !== credentials) {
      context = {
        for: credentials,
        secure: createSecureContext({ cert: credentials.certChainPem, key: credentials.keyPem, ca: credentials.rootCertsPem }),
      };
    }
    return context.secure;
  };

  const sockets = new Set<Socket>();
  let draining = false;

  const refuse = (socket: Socket, reason: string) => {
    options.onRefused?.(reason, socket.remoteAddress ?? "");
    socket.destroy();
  };

  const admit = (socket: Socket, conn: ConnInfo, first: Uint8Array | null) => {
    const transport = new NodeSocketTransport(socket);
    transport.attach(options.onConnection(transport, conn), first);
  };

  const net: NetServer = createNetServer({ pauseOnConnect: false }, (socket) => {
    if (draining) return void socket.destroy();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
    socket.once("data", (first: Uint8Array) => {
      socket.pause();
      socket.setTimeout(0);
      const accept = options.accept();
      const remoteAddress = socket.remoteAddress ?? "";
      const remotePort = socket.remotePort ?? 0;
      if (first[0] !== TLS_HANDSHAKE) {
        if (!accept.plaintext) return refuse(socket, "plaintext on a port that requires mTLS");
        return admit(socket, { remoteAddress, remotePort }, new Uint8Array(first.buffer, first.byteOffset, first.byteLength));
      }
      const credentials = options.credentials();
      if (!accept.tls || !credentials) return refuse(socket, "TLS on a port that takes plaintext only");
      socket.unshift(first);
      const tls = new TLSSocket(socket, {
        isServer: true,
        secureContext: secureContext(credentials),
        requestCert: accept.clientCertificate,
        rejectUnauthorized: accept.clientCertificate,
      });
      tls.setTimeout(HANDSHAKE_TIMEOUT_MS, () => tls.destroy());
      tls.on("error", (error: Error) => {
        options.onRefused?.(`TLS handshake failed: ${error.message}`, remoteAddress);
        tls.destroy();
      });
      tls.once("secure", async () => {
        tls.setTimeout(0);
        tls.pause();
        const conn: ConnInfo = { remoteAddress, remotePort, secure: true };
        if (accept.clientCertificate) {
          const peer = tls.getPeerCertificate(false);
          // a missing certificate leaves an empty object here
          if (!peer || !peer.raw) return refuse(tls, "no client certificate");
          const der = new Uint8Array(peer.raw);
          const problem = options.verifyPeer ? await options.verifyPeer(der) : "no peer verifier configured";
          if (problem) return refuse(tls, `client certificate refused: ${problem}`);
          conn.peer = { uris: uriSans(peer.subjectaltname), der };
        }
        if (tls.destroyed) return;
        admit(tls, conn, null);
      });
    });
  });

  return new Promise((resolve, reject) => {
    net.once("error", reject);
    net.listen({ port: options.port, host: options.hostname, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
      const address = net.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        hostname: options.hostname,
        port,
        connections: () => sockets.size,
        async stop(force = false) {
          draining = true;
          net.close();
          if (force) for (const s of sockets) s.destroy();
        },
      });
    });
  });
}

