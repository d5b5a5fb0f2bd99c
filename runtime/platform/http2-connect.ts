// One h2c connection to an upstream on node:http2 (Bun and Deno both implement it), as an
// H2ClientSession: streams opened on it carry a web body and trailers out and bring the response
// head, body (with backpressure) and trailers back. Failures come back as UpstreamError kinds, as
// the HTTP/1.1 client's do: connect, connect-timeout, reset (the stream or connection went before
// the response head), protocol (the answer is no valid response: http2-response-check.ts), aborted
// (the caller's signal). With a mesh TlsTarget the connection is mTLS
// to the peer sidecar instead, asking for h2 by ALPN, the server's SPIFFE ID checked as the
// HTTP/1.1 mTLS client does; a peer that does not choose h2 fails the connect (never h2 spoken to
// an HTTP/1.1 server).
import type * as NodeHttp2 from "node:http2";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { contextFor, type TlsTarget } from "./http1/tls-transport.ts";
import { uriSans } from "./uri-sans.ts";
import { H2 } from "./http2-alpn.ts";
import { UpstreamError, type H2ClientResponse, type H2ClientSession, type H2Head } from "./types.ts";
import { h2BodyStream, sendBody } from "./http2-body.ts";
import { loadHttp2, plain } from "./http2-listen.ts";
import { closeAfterGoawayFrame } from "./http2-goaway.ts";
import { closedByProtocolError, declaredLength, headProblem } from "./http2-response-check.ts";

export async function connectHttp2(hostname: string, port: number, connectTimeoutMs: number, tls?: TlsTarget): Promise<H2ClientSession> {
  const http2 = await loadHttp2(); // on first use (http2-listen.ts says why)
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return new Promise((resolve, reject) => {
    let session: NodeHttp2.ClientHttp2Session;
    if (tls) {
      const credentials = tls.credentials();
      if (tls.origination || !credentials) {
        return reject(new UpstreamError("connect", `connect to ${hostname}:${port}: ${tls.origination ? "HTTP/2 over TLS origination is not built" : "mTLS required but this workload has no certificate"}`));
      }
      session = http2.connect(`https://${host}:${port}`, { createConnection: () => meshSocket(hostname, port, tls, credentials) });
    } else {
      session = http2.connect(`http://${host}:${port}`);
    }
    closeAfterGoawayFrame(session); // the upstream's GOAWAY must not crash Deno (http2-goaway.ts)
    const timer = setTimeout(() => {
      session.destroy();
      reject(new UpstreamError("connect-timeout", `connect to ${hostname}:${port} timed out`));
    }, connectTimeoutMs);
    const failed = (error: Error) => {
      clearTimeout(timer);
      reject(new UpstreamError("connect", `connect to ${hostname}:${port}: ${error.message}`));
    };
    session.once("error", failed);
    session.once("connect", () => {
      clearTimeout(timer);
      session.off("error", failed);
      resolve(new NodeH2Session(session, `${hostname}:${port}`));
    });
  });
}

/** mTLS to a peer sidecar asking for h2 only; the server's identity and the protocol it chose checked */
function meshSocket(hostname: string, port: number, tls: TlsTarget, credentials: NonNullable<ReturnType<TlsTarget["credentials"]>>): TLSSocket {
  const socket = tlsConnect({
    host: hostname,
    port,
    secureContext: contextFor(credentials),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    ALPNProtocols: [H2],
    rejectUnauthorized: true,
    // the SPIFFE ID check stands in for the host-name check (SVIDs carry no DNS name)
    checkServerIdentity: (_host, cert) => {
      const problem = tls.verifyPeer(uriSans(cert.subjectaltname));
      return problem ? new Error(problem) : undefined;
    },
  });
  socket.setNoDelay(true);
  socket.once("secureConnect", () => {
    if (socket.alpnProtocol !== H2) socket.destroy(new Error(`the peer did not choose h2 by ALPN (${socket.alpnProtocol || "none"})`));
  });
  return socket;
}

class NodeH2Session implements H2ClientSession {
  active = 0;
  private ended = false;
  /** the callbacks ran: kept apart from gone, so a session retired by close() still reports its
   * end (the pool counts it as a connection until then, and frees its slot at that moment) */
  private reported = false;
  private readonly goneCallbacks: (() => void)[] = [];
  private readonly streamCallbacks: (() => void)[] = [];

  constructor(
    private readonly session: NodeHttp2.ClientHttp2Session,
    private readonly address: string,
  ) {
    const markGone = () => {
      if (this.reported) return;
      this.reported = true;
      this.ended = true;
      for (const callback of this.goneCallbacks) callback();
    };
    session.on("goaway", markGone);
    session.on("close", markGone);
    session.on("error", markGone);
  }

  /** no new streams: GOAWAY either way, closed, failed, or retired by close(); or destroyed with
   * its "close" still to come (Deno destroys a session on a protocol error and reports it later) */
  get gone(): boolean {
    return this.ended || this.session.destroyed;
  }

  get maxStreams(): number {
    return this.session.remoteSettings?.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
  }

  onGone(callback: () => void): void {
    this.goneCallbacks.push(callback);
  }

  onStreamClose(callback: () => void): void {
    this.streamCallbacks.push(callback);
  }

  close(): void {
    this.ended = true;
    if (!this.session.closed) this.session.close();
  }

  request(head: H2Head, body: ReadableStream<Uint8Array> | null, trailers: Promise<H2Head | undefined> | undefined, signal?: AbortSignal): Promise<H2ClientResponse> {
    const address = this.address;
    if (signal?.aborted) return Promise.reject(new UpstreamError("aborted", `request to ${address} aborted`));
    let stream: NodeHttp2.ClientHttp2Stream;
    try {
      stream = this.session.request(head, { endStream: !body && !trailers, waitForTrailers: !!trailers });
    } catch (error) {
      return Promise.reject(new UpstreamError("reset", `${address}: ${(error as Error).message}`));
    }
    this.active++;
    stream.once("close", () => {
      this.active--;
      for (const callback of this.streamCallbacks) callback();
    });
    return new Promise<H2ClientResponse>((resolve, reject) => {
      let answered = false;
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        stream.close(0x8 /* CANCEL */);
        if (!answered) reject(new UpstreamError("aborted", `request to ${address} aborted`));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      let streamError: Error | undefined;
      stream.once("close", () => {
        signal?.removeEventListener("abort", onAbort);
        if (answered || aborted) return;
        const code = stream.rstCode;
        if (closedByProtocolError(code, /protocol error/i.test(streamError?.message ?? ""))) {
          reject(new UpstreamError("protocol", `${address}: protocol error before the response head (code ${code ?? "?"})`));
        } else reject(new UpstreamError("reset", `${address}: stream closed before the response head (code ${code ?? "?"})`));
      });
      // reported through "close" (before the head) or the body stream (after)
      stream.on("error", (error: Error) => (streamError ??= error));
      let responseTrailers: H2Head | undefined;
      stream.once("trailers", (t) => (responseTrailers = plain(t)));
      const method = String(head[":method"]);
      stream.once("response", (headers) => {
        answered = true;
        const ended = stream.endAfterHeaders;
        const problem = headProblem(headers, ended, method);
        if (problem) {
          stream.close(0x1 /* PROTOCOL_ERROR */);
          return reject(new UpstreamError("protocol", `${address}: ${problem}`));
        }
        const length = ended ? undefined : declaredLength(headers, method);
        resolve({
          head: plain(headers),
          body: ended ? null : h2BodyStream(stream, () => new UpstreamError("reset", `${address}: stream reset during the response body`), length === undefined ? undefined : {
            length,
            mismatch: (received) => new UpstreamError("protocol", `${address}: response body of ${received} bytes, content-length ${length}`),
          }),
          trailers: ended ? Promise.resolve(undefined) : new Promise((done) => {
            stream.once("end", () => done(responseTrailers));
            stream.once("close", () => done(responseTrailers));
          }),
        });
      });
      if (body || trailers) void sendBody(stream, body, trailers);
    });
  }
}
