// Transport over node:tls, for mTLS to other sidecars. node:tls is the one TLS client that shows
// the server's certificate on both runtimes (Deno.connectTls does not; Bun.connect's checks are
// host-name based). SVIDs carry a SPIFFE URI SAN and no DNS name, so the host-name check is
// replaced by the caller's check of the server's SPIFFE ID (verifyPeer); the chain itself is
// verified against the trust bundle by the TLS library (rejectUnauthorized).
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from "node:tls";
import type { TlsCredentials } from "../mesh-listener.ts";
import { WRITE_HIGH_WATER, type Connect, type Transport, type TransportHandler } from "./transport.ts";
import { uriSans } from "../uri-sans.ts";

export interface TlsTarget {
  /** this workload's current certificate; null when it has none yet (the connection then fails) */
  credentials(): TlsCredentials | null;
  /** null when the server's URI SANs are acceptable, else why not */
  verifyPeer(uris: string[]): string | null;
}

const contexts = new WeakMap<TlsCredentials, SecureContext>();
function contextFor(credentials: TlsCredentials): SecureContext {
  let context = contexts.get(credentials);
  if (!context) {
    context = createSecureContext({ cert: credentials.certChainPem, key: credentials.keyPem, ca: credentials.rootCertsPem });
    contexts.set(credentials, context);
  }
  return context;
}

class TlsTransport implements Transport {
  done = false;
  queued = 0;
  wantDrain = false;
  readonly socket: TLSSocket;

  constructor(
    readonly handler: TransportHandler,
    host: string,
    port: number,
    target: TlsTarget,
  ) {
    let peerError: string | null = null;
    const credentials = target.credentials();
    this.socket = tlsConnect({
      host,
      port,
      ...(credentials ? { secureContext: contextFor(credentials) } : { ca: [] as string[] }),
      rejectUnauthorized: true,
      // the SPIFFE ID check below stands in for the host-name check
      checkServerIdentity: (_host, cert) => {
        peerError = target.verifyPeer(uriSans(cert.subjectaltname));
        return peerError ? new Error(peerError) : undefined;
      },
    });
    const socket = this.socket;
    if (!credentials) {
      queueMicrotask(() => this.closed(new Error("mTLS required but this workload has no certificate")));
      return;
    }
    socket.setNoDelay(true);
    socket.once("secureConnect", () => {
      if (this.done) return;
      if (peerError) return this.closed(new Error(peerError));
      this.handler.onOpen();
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (!this.done) this.handler.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("drain", () => {
      this.queued = 0;
      if (this.wantDrain && !this.done) {
        this.wantDrain = false;
        this.handler.onDrain();
      }
    });
    socket.on("end", () => this.closed(null));
    socket.on("close", () => this.closed(null));
    socket.on("error", (error: Error) => this.closed(error));
  }

  write(data: Uint8Array): boolean {
    if (this.done) return true;
    const ok = this.socket.write(data);
    if (ok) return true;
    this.queued += data.byteLength;
    if (this.queued < WRITE_HIGH_WATER) return true;
    this.wantDrain = true;
    return false;
  }

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    this.handler.onClose(error);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  ref(on: boolean): void {
    if (on) this.socket.ref();
    else this.socket.unref();
  }

  end(): void {
    if (this.done) return;
    this.socket.resume();
    this.socket.end();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
  }
}

/** node:tls, or on Bun its native TLS sockets (bun-transport.ts) */
const connectTls = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? (await import("./bun-transport.ts")).bunConnectTls
  : (host: string, port: number, handler: TransportHandler, target: TlsTarget): Transport => new TlsTransport(handler, host, port, target);

/** a Connect that speaks mTLS to the addresses targetFor() names and plaintext (via plain) to the rest */
export function meshConnect(plain: Connect, targetFor: (host: string, port: number) => TlsTarget | null): Connect {
  return (host, port, handler) => {
    const target = targetFor(host, port);
    return target ? connectTls(host, port, handler, target) : plain(host, port, handler);
  };
}
