// The listener for ports that may take (m)TLS and plaintext on the same port: sidecar inbound
// ports with a workload identity (PERMISSIVE, and every mTLS port on Deno, whose own TLS listener
// cannot ask for client certificates) and `dietmesh ca serve`. A node:net server peeks at the first
// byte — 0x16 opens a TLS handshake, anything else is plaintext HTTP — and TLS is terminated by a
// server TLSSocket that requests the client certificate and verifies it against the trust bundle;
// verifyPeer checks it again once per connection (Deno's node:tls lets an untrusted client
// certificate through its handshake). Each admitted connection is handed, as a Transport, to a
// runtime-neutral handler: dietmesh's own HTTP/1.1 server, as on every other listener. With
// Acceptance.http2, mesh TLS offers h2 by ALPN too (http2-alpn.ts): a connection that negotiates it
// goes to node:http2 instead, its peer identity on every stream.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { ConnInfo, SocketServer } from "./types.ts";
import type { Transport, TransportHandler } from "./http1/transport.ts";
import { NodeSocketTransport } from "./node-socket.ts";
import { uriSans } from "./uri-sans.ts";
import { H2, MESH_ALPN, serveH2Connection, type H2Connection, type H2StreamHandler } from "./http2-alpn.ts";

/** PEM texts of a workload identity: its chain (leaf first), key, and the roots it trusts */
export interface TlsCredentials {
  certChainPem: string;
  keyPem: string;
  rootCertsPem: string;
}

/**
 * TLS chosen for one connection from its ClientHello (a gateway's HTTPS servers: certificate by
 * SNI). caPem and clientCertificate: the client must present a certificate chaining to caPem.
 */
export interface ServerTls {
  certChainPem: string;
  keyPem: string;
  caPem?: string;
  clientCertificate: boolean;
  /** ask for a client certificate without requiring one; one that is given must pass verifyPeer */
  optionalClientCertificate?: boolean;
  /** checks a client certificate for this server (else the listener's verifyPeer) */
  verifyPeer?(leafDer: Uint8Array): Promise<string | null>;
  /** the URI SAN of certChainPem's leaf (XFCC's By), when it has one */
  localUri?: string;
  /** "TLSv1.2", "TLSv1.3" */
  minVersion?: string;
  maxVersion?: string;
  /** OpenSSL cipher list (TLS 1.2 suites) */
  ciphers?: string;
}

/** what a listener lets in on a new connection (asked again for every connection) */
export interface Acceptance {
  plaintext: boolean;
  tls: boolean;
  /** TLS connections must present a certificate that chains to rootCertsPem */
  clientCertificate: boolean;
  /** mesh TLS offers h2 by ALPN as well as http/1.1; streams of h2 connections go here */
  http2?: H2StreamHandler;
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
  /**
   * Per-connection TLS from the client's first TLS record (the ClientHello): what to serve, or why
   * the connection is refused. When given, it replaces credentials() for TLS connections.
   */
  serverTls?(helloRecord: Uint8Array): ServerTls | string;
  /** a connection is admitted: returns what handles its bytes */
  onConnection(socket: Transport, conn: ConnInfo): TransportHandler;
}

const ON_DENO = "Deno" in globalThis;

/**
 * Why this runtime's node:tls cannot serve these settings exactly (undefined: it can). Deno's
 * (rustls) speaks TLS 1.2 and 1.3 only, and does not apply `ciphers` (measured 2026-12-05, Deno
 * 2.9.6: a server given one TLS 1.2 suite negotiated another with openssl s_client). The config is
 * refused at load with these reasons rather than served differently.
 */
export function serverTlsUnsupported(tls: Pick<ServerTls, "minVersion" | "maxVersion" | "ciphers">): { field: "minVersion" | "maxVersion" | "ciphers"; reason: string }[] {
  if (!ON_DENO) return [];
  const out: { field: "minVersion" | "maxVersion" | "ciphers"; reason: string }[] = [];
  const OLD = "TLS 1.0 and 1.1 cannot be served on Deno (its TLS library speaks 1.2 and 1.3 only); run this gateway on Bun, or ask for TLSV1_2 or later";
  for (const field of ["minVersion", "maxVersion"] as const) if (tls[field] === "TLSv1" || tls[field] === "TLSv1.1") out.push({ field, reason: OLD });
  if (tls.ciphers) out.push({ field: "ciphers", reason: "cipherSuites cannot be honoured on Deno (its node:tls does not apply a cipher list); run this gateway on Bun, or leave cipherSuites out" });
  return out;
}

/** the TLS record header says how long the ClientHello's record is; more than this is refused */
const MAX_HELLO_RECORD = 5 + 16 * 1024;

/**
 * Whether tls would work as served: certificate and key parse and belong together (the TLS
 * library's own check). A file caught half-written, or a key swapped before its certificate,
 * fails here instead of on every new connection.
 */
export function serverTlsProblem(tls: ServerTls): string | null {
  try {
    createSecureContext({ cert: tls.certChainPem, key: tls.keyPem, ...(tls.caPem ? { ca: tls.caPem } : {}) });
    // Deno's createSecureContext takes a key that does not belong to the certificate (Bun's refuses
    // it): asked again here, on the leaf, so both runtimes keep the previous pair in that case
    if (!new X509Certificate(tls.certChainPem).checkPrivateKey(createPrivateKey(tls.keyPem))) return "the private key does not belong to the certificate";
    return null;
  } catch (error) {
    return (error as Error).message;
  }
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

  // one SecureContext per ServerTls object: a certificate swap hands a new object
  const serverContexts = new WeakMap<ServerTls, SecureContext>();
  const serverContext = (tls: ServerTls): SecureContext => {
    let secure = serverContexts.get(tls);
    if (!secure) {
      secure = createSecureContext({
        cert: tls.certChainPem,
        key: tls.keyPem,
        ...(tls.caPem ? { ca: tls.caPem } : {}),
        ...(tls.minVersion ? { minVersion: tls.minVersion as "TLSv1.2" } : {}),
        ...(tls.maxVersion ? { maxVersion: tls.maxVersion as "TLSv1.3" } : {}),
        ...(tls.ciphers ? { ciphers: tls.ciphers } : {}),
      });
      serverContexts.set(tls, secure);
    }
    return secure;
  };

  const sockets = new Set<Socket>();
  const h2Connections = new Set<H2Connection>();
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
        return admit(socket, { remoteAddress, remotePort, localAddress: socket.localAddress, localPort: socket.localPort }, new Uint8Array(first.buffer, first.byteOffset, first.byteLength));
      }
      if (!accept.tls) return refuse(socket, "TLS on a port that takes plaintext only");
      if (options.serverTls) return helloThen(socket, first, (record) => terminate(socket, record, options.serverTls!(record), remoteAddress, remotePort, undefined, accept.http2));
      const credentials = options.credentials();
      if (!credentials) return refuse(socket, "TLS on a port that takes plaintext only");
      terminate(socket, first, { certChainPem: credentials.certChainPem, keyPem: credentials.keyPem, caPem: credentials.rootCertsPem, clientCertificate: accept.clientCertificate }, remoteAddress, remotePort, secureContext(credentials), accept.http2);
    });
  });

  /** reads until the first TLS record (the ClientHello) is whole, then hands it on */
  const helloThen = (socket: Socket, first: Uint8Array, then: (record: Uint8Array) => void) => {
    let bytes = new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
    const check = () => {
      const need = bytes.byteLength >= 5 ? 5 + ((bytes[3] << 8) | bytes[4]) : 5;
      if (need > MAX_HELLO_RECORD) return refuse(socket, "TLS record too large for a ClientHello");
      if (bytes.byteLength < need) {
        socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
        socket.once("data", (more: Uint8Array) => {
          socket.pause();
          const joined = new Uint8Array(bytes.byteLength + more.byteLength);
          joined.set(bytes);
          joined.set(more, bytes.byteLength);
          bytes = joined;
          check();
        });
        socket.resume();
        return;
      }
      socket.setTimeout(0);
      then(bytes);
    };
    check();
  };

  /** a TLS connection that negotiated h2, served by node:http2 until it closes or the listener drains */
  const admitH2 = (tls: TLSSocket, conn: ConnInfo, onStream: H2StreamHandler) => {
    const transport = new NodeSocketTransport(tls);
    const h2: H2Connection = serveH2Connection(onStream, transport, (handler) => transport.attach(handler, null), conn, () => h2Connections.delete(h2));
    h2Connections.add(h2);
  };

  /** TLS on socket with what was chosen for it; first: the bytes already read, put back; http2: offer h2 by ALPN */
  const terminate = (socket: Socket, first: Uint8Array, chosen: ServerTls | string, remoteAddress: string, remotePort: number, context?: SecureContext, http2?: H2StreamHandler) => {
    if (typeof chosen === "string") return refuse(socket, chosen);
    socket.unshift(first);
    const tls = new TLSSocket(socket, {
      isServer: true,
      secureContext: context ?? serverContext(chosen),
      requestCert: chosen.clientCertificate || chosen.optionalClientCertificate === true,
      rejectUnauthorized: chosen.clientCertificate,
      ...(http2 ? { ALPNProtocols: MESH_ALPN } : {}),
    });
    tls.setTimeout(HANDSHAKE_TIMEOUT_MS, () => tls.destroy());
    tls.on("error", (error: Error) => {
      options.onRefused?.(`TLS handshake failed: ${error.message}`, remoteAddress);
      tls.destroy();
    });
    tls.once("secure", async () => {
      tls.setTimeout(0);
      tls.pause();
      const conn: ConnInfo = { remoteAddress, remotePort, localAddress: socket.localAddress, localPort: socket.localPort, sni: typeof tls.servername === "string" && tls.servername ? tls.servername : undefined, secure: true };
      if (chosen.clientCertificate || chosen.optionalClientCertificate) {
        const peer = tls.getPeerCertificate(false);
        // a missing certificate leaves an empty object here
        const given = Boolean(peer && peer.raw);
        if (!given && chosen.clientCertificate) return refuse(tls, "no client certificate");
        if (given) {
          const der = new Uint8Array(peer.raw);
          const verify = chosen.verifyPeer ?? options.verifyPeer;
          const problem = verify ? await verify(der) : "no peer verifier configured";
          if (problem) return refuse(tls, `client certificate refused: ${problem}`);
          conn.peer = { uris: uriSans(peer.subjectaltname), der, ...(chosen.localUri ? { localUri: chosen.localUri } : {}) };
        }
      }
      if (tls.destroyed) return;
      if (http2 && tls.alpnProtocol === H2) return admitH2(tls, conn, http2);
      admit(tls, conn, null);
    });
  };

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
          // GOAWAY: streams in flight finish, no new ones
          for (const h2 of h2Connections) h2.stop();
          if (force) for (const s of sockets) s.destroy();
        },
      });
    });
  });
}

