// Transport over node:tls, for mTLS to other sidecars and for TLS origination to services outside
// the mesh (DestinationRule tls.mode SIMPLE/MUTUAL). node:tls is the one TLS client that shows the
// server's certificate on both runtimes (Deno.connectTls does not; Bun.connect's checks are
// host-name based). SVIDs carry a SPIFFE URI SAN and no DNS name, so for mesh mTLS the host-name
// check is replaced by the caller's check of the server's SPIFFE ID (verifyPeer); the chain itself
// is verified against the trust bundle by the TLS library (rejectUnauthorized). For origination the
// chain goes to the configured CA (or the runtime's roots) and the name check is
// security/server-identity.ts's, called from node:tls's checkServerIdentity hook.
import { checkServerIdentity, connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from "node:tls";
import type { TlsCredentials } from "../mesh-listener.ts";
import { WRITE_HIGH_WATER, type Transport, type TransportHandler } from "./transport.ts";
import { uriSans } from "../uri-sans.ts";
import { originationNameProblem } from "../../security/server-identity.ts";
import { noteRead } from "../read-garbage.ts";
import { handedOn, isLent, written } from "../read-buffers.ts";
import { pauseReads, resumeReads } from "../socket-reads.ts";

export interface TlsTarget {
  /** this workload's current certificate; null when it has none yet (the connection then fails) */
  credentials(): TlsCredentials | null;
  /** null when the server's URI SANs are acceptable, else why not */
  verifyPeer(uris: string[]): string | null;
  /** mesh mTLS: the SNI to send (a DestinationRule's tls.sni); absent: the runtime's default
   * (the host when it is a name, none for an IP) */
  serverName?: string;
  /** TLS origination instead of mesh mTLS (then credentials and verifyPeer are not used) */
  origination?: OriginationTls;
}

/** TLS to a server outside the mesh, as a DestinationRule's SIMPLE or MUTUAL mode asks */
export interface OriginationTls {
  /** SNI, and the name the server's certificate must carry unless subjectAltNames are given */
  serverName: string;
  /** PEM texts, read when a connection opens (so renewed files are used by new connections) */
  material(): Promise<{ caPem?: string; certChainPem?: string; keyPem?: string }>;
  /** names (DNS or URI SANs) any one of which the server's certificate must carry */
  subjectAltNames?: readonly string[];
  /** no chain or name check at all (Istio's insecureSkipVerify) */
  insecureSkipVerify: boolean;
}

/** the node:tls options for an origination connection */
async function originationOptions(host: string, port: number, tls: OriginationTls): Promise<ConnectionOptions> {
  const { caPem: ca, certChainPem: cert, keyPem: key } = await tls.material();
  return {
    host,
    port,
    servername: tls.serverName,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    rejectUnauthorized: !tls.insecureSkipVerify,
    checkServerIdentity: (_host, peer) => originationNameProblem(tls, peer.subjectaltname, (name) => checkServerIdentity(name, peer)),
  };
}

const contexts = new WeakMap<TlsCredentials, SecureContext>();
/** one SecureContext per credentials object (a renewal hands a new one); shared with the HTTP/2 client */
export function contextFor(credentials: TlsCredentials): SecureContext {
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
  socket: TLSSocket | undefined;

  constructor(
    readonly handler: TransportHandler,
    host: string,
    port: number,
    target: TlsTarget,
  ) {
    if (target.origination) {
      // the files are read first; until then the transport has no socket (nothing writes before onOpen)
      originationOptions(host, port, target.origination).then(
        (options) => {
          if (this.done) return;
          this.socket = tlsConnect(options);
          this.follow(this.socket, () => null);
        },
        (error: Error) => this.closed(new Error(`TLS origination: ${error.message}`)),
      );
      return;
    }
    let peerError: string | null = null;
    const credentials = target.credentials();
    this.socket = tlsConnect({
      host,
      port,
      ...(credentials ? { secureContext: contextFor(credentials) } : { ca: [] as string[] }),
      ...(target.serverName ? { servername: target.serverName } : {}),
      rejectUnauthorized: true,
      // the SPIFFE ID check below stands in for the host-name check
      checkServerIdentity: (_host, cert) => {
        peerError = target.verifyPeer(uriSans(cert.subjectaltname));
        return peerError ? new Error(peerError) : undefined;
      },
    });
    if (!credentials) {
      queueMicrotask(() => this.closed(new Error("mTLS required but this workload has no certificate")));
      return;
    }
    this.follow(this.socket, () => peerError);
  }

  /** the socket's events, once it exists; peerError: a problem the identity check found */
  follow(socket: TLSSocket, peerError: () => string | null): void {
    socket.setNoDelay(true);
    socket.once("secureConnect", () => {
      if (this.done) return;
      const problem = peerError();
      if (problem) return this.closed(new Error(problem));
      this.handler.onOpen();
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (this.done) return;
      noteRead(chunk.byteLength); // a streamed body's reads are garbage the runtime frees late (read-garbage.ts)
      this.handler.onData(handedOn(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
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

  /** lent arrays (read-buffers.ts) written with a callback, in write order: each is given back once out */
  private readonly lentOut: Uint8Array[] = [];
  private readonly onLentWritten = (error?: Error | null): void => {
    const chunk = this.lentOut.shift();
    if (chunk && !error) written(chunk);
  };

  write(data: Uint8Array): boolean {
    if (this.done || !this.socket) return true;
    const ok = isLent(data) ? (this.lentOut.push(data), this.socket.write(data, this.onLentWritten)) : this.socket.write(data);
    if (ok) return true;
    this.queued += data.byteLength;
    if (this.queued < WRITE_HIGH_WATER) return true;
    this.wantDrain = true;
    return false;
  }

  closed(error: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
    this.handler.onClose(error);
  }

  pause(): void {
    if (this.socket) pauseReads(this.socket);
  }

  resume(): void {
    if (this.socket) resumeReads(this.socket);
  }

  ref(on: boolean): void {
    if (on) this.socket?.ref();
    else this.socket?.unref();
  }

  end(): void {
    if (this.done) return;
    if (!this.socket) return this.destroy();
    resumeReads(this.socket);
    this.socket.end();
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
  }
}

/** a connection over node:tls (mesh-connect.ts decides when, and loads this module on first use) */
export const nodeConnectTls = (host: string, port: number, handler: TransportHandler, target: TlsTarget): Transport => new TlsTransport(handler, host, port, target);
