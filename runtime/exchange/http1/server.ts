// dietmesh's own HTTP/1.1 server, one object per downstream connection, on any socket the platform
// hands it (the runtime's native TCP or TLS sockets, or a TLS socket of its Node compatibility
// layer): reads request heads with the strict parser of request-head.ts, frames request bodies,
// answers one request at a time in order, and writes the response. The runtimes' own HTTP servers
// are not used on the data path: none shows a handler the client certificate, several let
// ambiguous requests through (two Host headers joined, absolute-form targets routed by Host,
// pipelined requests lost on Bun), and the Node-compatible one costs several times the routing
// itself (docs/performance.md).
//
// Pipelining: bytes after the current request are kept and the socket paused until its response is
// written; then the next request is read from them. A response never overtakes an earlier one.
//
// h2c on an HTTP port (with the http2 option): a connection whose first bytes are the HTTP/2
// preface is handed over whole, as a byte channel, to the HTTP/2 server. The HTTP/1.1 path pays
// one byte comparison per connection for it (only P… methods look further).
import type { ConnInfo } from "../../platform/types.ts";
import type { ByteChannel, DataHandler, HttpRequest, HttpResponse } from "../types.ts";
import type { Transport, TransportHandler } from "../../platform/http1/transport.ts";
import { BODY_STRATEGY, BodySource, type BodyOwner } from "./body-source.ts";
import { latin1, piece } from "../../platform/http1/bytes.ts";
import { CHUNKED_DONE, ChunkedDecoder } from "./chunked.ts";
import { DEFAULT_HEAD_LIMITS, newRequestHead, RequestHeadReader, type HeadError, type HeadLimits, type RequestHead } from "./request-head.ts";
import { requestParts, type UrlParts } from "./request-url.ts";
import { FAILED, KEEP, writeResponse, writeSwitchingProtocols, type ResponseSink, type Written } from "./response-writer.ts";
import { TransportChannel } from "../transport-channel.ts";
import { HeaderList } from "../header-list.ts";
import { splice, type Splice } from "../splice.ts";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { IS_PREFACE, NOT_PREFACE, prefaceMatch } from "../http2/preface.ts";


export interface Http1ServerOptions {
  handler: DataHandler;
  /** a handler that threw: must return a response (the data plane never crashes) */
  onError(error: unknown): HttpResponse;
  /** a request the parser refused: the local reply for it (Envoy's status, DPE) */
  badRequest(error: HeadError): HttpResponse;
  limits?: HeadLimits;
  /** "http" on plaintext listeners, "https" on TLS ones (x-forwarded-proto, :scheme) */
  scheme: string;
  /** shared by a listener's connections: once draining, each closes after its current response */
  lifecycle: { draining: boolean; closed(conn: Http1ServerConnection): void };
  /** an upgraded connection with no byte either way for this long is closed (Envoy's stream idle timeout, 5 min) */
  tunnelIdleTimeoutMs?: number;
  clock?: Clock;
  /** takes a connection that opened with the HTTP/2 preface (its bytes still in the channel); stop() is its drain (GOAWAY) */
  http2?(channel: ByteChannel, conn: ConnInfo): { stop(): void };
}

const TUNNEL_IDLE_TIMEOUT_MS = 5 * 60_000;

const HEAD = 0; // waiting for (more of) a request head
const BODY = 1; // the request is being handled and its body is still arriving
const WAIT = 2; // the request body is complete (or there was none); its response is not written yet
const CLOSED = 3;
const TUNNEL = 4; // switched protocols, or handed to HTTP/2: bytes go both ways untouched (splice.ts)
const SNIFF = 5; // a new connection on a listener that also takes h2c: HTTP/1.1 or the HTTP/2 preface?

const NO_BODY = 0;
const LENGTH = 1;
const CHUNKED = 2;

/** "HTTP/1.1 100 Continue\r\n\r\n" */
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** the answer to a CONNECT that opened its tunnel; no headers, no body (RFC 9110 §9.3.6) */
const ESTABLISHED = new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n");

/** bytes of pipelined requests kept while the current one is handled, before the socket is paused */
const MAX_BUFFERED = 64 * 1024;

class ServerRequest implements HttpRequest {
  private whole: string | undefined = undefined;

  constructor(
    readonly method: string,
    readonly scheme: string,
    private readonly authority: string,
    readonly target: string,
    readonly rawTarget: string,
    readonly headers: HeaderList,
    readonly body: ReadableStream<Uint8Array> | null,
    readonly upgrade: string | undefined,
  ) {}

  /** built on first use: the chain reads scheme and target, only a Web adapter the whole url */
  get url(): string {
    return (this.whole ??= this.scheme + "://" + this.authority + this.target);
  }
}

export class Http1ServerConnection implements TransportHandler, BodyOwner, ResponseSink {
  state = HEAD;
  readonly reader: RequestHeadReader;
  readonly head: RequestHead = newRequestHead();
  /** the current request's URL parts (requestParts), reused */
  readonly urlParts: UrlParts = { scheme: "", authority: "", target: "", from: "" };
  /** bytes received after the current request, waiting for its response to be written */
  buffered: Uint8Array[] = [];
  bufferedBytes = 0;
  bodyMode = NO_BODY;
  remaining = 0;
  chunked: ChunkedDecoder | null = null;
  source: BodySource | null = null;
  keepAlive = true;
  /** the handler's response is being written; socket writes may have to wait for drain */
  writing = false;
  drainWaiter: (() => void) | null = null;
  paused = false;
  /** the current request asked to switch protocols (Connection: upgrade + Upgrade) */
  upgradeAsked = false;
  /** the current request is a CONNECT: a 2xx opens a tunnel */
  connectAsked = false;
  /** after a 101: this connection's side of the tunnel, and the splice joining it upstream */
  channel: TransportChannel | null = null;
  splice: Splice | null = null;
  /** the first bytes, while they could still be the HTTP/2 preface */
  sniffed: Uint8Array | null = null;
  /** the HTTP/2 session this connection was handed to */
  http2: { stop(): void } | null = null;
  /** the current request is a HEAD (one request is handled at a time: later ones wait in `buffered`) */
  isHead = false;
  // The handler's and the writer's promises settle through these, made once per connection, not
  // per request.
  readonly onResponse = (response: HttpResponse): void => this.respond(response, this.isHead);
  readonly onHandlerError = (error: unknown): void => this.respond(this.options.onError(error), this.isHead);
  readonly onWritten = (outcome: Written): void => this.written(outcome);

  constructor(
    readonly socket: Transport,
    readonly conn: ConnInfo,
    readonly options: Http1ServerOptions,
  ) {
    this.reader = new RequestHeadReader(options.limits ?? DEFAULT_HEAD_LIMITS, latin1);
    if (options.http2) this.state = SNIFF;
  }

  onOpen(): void {}

  onData(chunk: Uint8Array): void {
    if (this.state === TUNNEL) return this.channel!.data(chunk);
    if (this.state === CLOSED) return;
    if (this.state === WAIT) return this.keep(chunk);
    if (this.state === SNIFF) return this.sniff(chunk);
    this.consume(chunk, 0);
  }

  /** a new connection's first bytes: the HTTP/2 preface goes to the HTTP/2 server, anything else is read as HTTP/1.1 */
  sniff(chunk: Uint8Array): void {
    let bytes = chunk;
    if (this.sniffed) {
      bytes = new Uint8Array(this.sniffed.byteLength + chunk.byteLength);
      bytes.set(this.sniffed);
      bytes.set(chunk, this.sniffed.byteLength);
    }
    if (bytes.byteLength === 0) return;
    const match = bytes[0] !== 0x50 /* "P" */ ? NOT_PREFACE : prefaceMatch(bytes);
    if (match !== NOT_PREFACE && match !== IS_PREFACE) {
      this.sniffed = bytes;
      return;
    }
    this.sniffed = null;
    this.state = HEAD;
    if (match === NOT_PREFACE) return this.consume(bytes, 0);
    this.state = TUNNEL;
    this.keepAlive = false;
    this.channel = new TransportChannel(this.socket, [bytes], () => this.tunnelGone());
    this.http2 = this.options.http2!(this.channel, this.conn);
  }

  /** reads requests (and the current body) from bytes[offset..] */
  consume(bytes: Uint8Array, offset: number): void {
    while (offset < bytes.byteLength && this.state !== CLOSED) {
      if (this.state === WAIT) return this.keep(offset === 0 ? bytes : bytes.subarray(offset));
      if (this.state === BODY) {
        offset = this.bodyBytes(bytes, offset);
        continue;
      }
      const at = this.reader.read(offset === 0 ? bytes : bytes.subarray(offset), this.head);
      if (at < 0) {
        if (this.reader.error) this.refuse(this.reader.error);
        return;
      }
      const data = this.reader.data;
      this.start();
      bytes = data;
      offset = at;
    }
  }

  keep(bytes: Uint8Array): void {
    this.buffered.push(bytes);
    this.bufferedBytes += bytes.byteLength;
    if (this.bufferedBytes > MAX_BUFFERED && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** a complete head: hand the request to the handler */
  start(): void {
    const head = this.head;
    this.keepAlive = head.keepAlive;
    let body: ReadableStream<Uint8Array> | null = null;
    if (head.chunked) {
      this.bodyMode = CHUNKED;
      (this.chunked ??= new ChunkedDecoder()).reset();
    } else if (head.contentLength > 0) {
      this.bodyMode = LENGTH;
      this.remaining = head.contentLength;
    } else this.bodyMode = NO_BODY;
    if (this.bodyMode !== NO_BODY) {
      this.source = new BodySource(this);
      body = new ReadableStream(this.source, BODY_STRATEGY);
      this.state = BODY;
    } else this.state = WAIT;
    const resolved = this.urlParts;
    const refused = requestParts(head, this.options.scheme, resolved);
    if (refused) {
      this.bodyMode = NO_BODY;
      this.state = WAIT;
      return this.refuse(refused);
    }
    // the parser has checked every name (a lowercase token) and value: they go in as they are
    const headers = new HeaderList();
    const names = head.names;
    const values = head.values;
    // Content-Length repeated with one value (two lines, or "5, 5": RFC 9112 §6.3) goes on as one
    // length, not joined into "5, 5"; Expect: 100-continue is answered here and not forwarded
    let length = head.contentLength >= 0;
    const expect = head.expectContinue && this.bodyMode !== NO_BODY;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name.length === 14 && name === "content-length") {
        const value = values[i];
        if (length) headers.add(name, value.indexOf(",") < 0 && (value.length === 1 || value.charCodeAt(0) !== 48) ? value : String(head.contentLength));
        length = false;
      } else if (!(expect && name.length === 6 && name === "expect")) headers.add(name, values[i]);
    }
    // Envoy's default (proxy_100_continue off): the proxy says 100 Continue itself and strips Expect,
    // so a client that waits for it sends its body at once, and the upstream never sends a 1xx of
    // its own. A request without a body needs no 100 (RFC 9110 §10.1.1).
    if (expect) this.socket.write(CONTINUE);
    // an absolute-form target names the authority; Host is replaced by it (RFC 9112 §3.2.2)
    if (head.target.charCodeAt(0) !== 47 /* "/" */) headers.set("host", resolved.authority);
    this.connectAsked = head.method === "CONNECT";
    this.upgradeAsked = head.upgrade && !this.connectAsked;
    const request = new ServerRequest(head.method, resolved.scheme, resolved.authority, resolved.target, rawOriginTarget(head.target), headers, body, this.upgradeAsked ? (headers.get("upgrade") ?? undefined) : undefined);
    let response: HttpResponse | Promise<HttpResponse>;
    try {
      // the connection's own facts: the same object for every request it carries (nothing per request)
      response = this.options.handler(request, this.conn);
    } catch (error) {
      response = this.options.onError(error);
    }
    const isHead = (this.isHead = head.method === "HEAD");
    if (!(response instanceof Promise)) this.respond(response, isHead);
    else response.then(this.onResponse, this.onHandlerError);
  }

  /** request body bytes from bytes[offset..]; returns where the next request starts */
  bodyBytes(bytes: Uint8Array, offset: number): number {
    const end = bytes.byteLength;
    if (this.bodyMode === LENGTH) {
      const n = Math.min(this.remaining, end - offset);
      this.remaining -= n;
      this.onBodyBytes(piece(bytes, offset, offset + n));
      if (this.remaining === 0) this.bodyDone();
      return offset + n;
    }
    const decoder = this.chunked!;
    const at = decoder.decode(bytes, offset, end, this);
    if (at < 0) {
      this.bodyFailed(new Error(`invalid chunked request body: ${decoder.error}`));
      this.refuse({ status: 400, details: "http1.codec_error" });
      return end;
    }
    if (decoder.state === CHUNKED_DONE) this.bodyDone();
    return at;
  }

  onBodyBytes(bytes: Uint8Array): void {
    const source = this.source;
    if (!source?.owner) return; // the consumer cancelled: the rest is read and dropped
    source.controller.enqueue(bytes);
    if ((source.controller.desiredSize ?? 1) <= 0 && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  bodyDone(): void {
    const source = this.source;
    this.source = null;
    if (source?.owner) source.controller.close();
    if (this.state === BODY) this.state = WAIT;
  }

  bodyFailed(error: Error): void {
    const source = this.source;
    this.source = null;
    if (source?.owner) source.controller.error(error);
  }

  resumeBody(): void {
    if (this.paused && this.state === BODY) {
      this.paused = false;
      this.socket.resume();
    }
  }

  bodyCancelled(): void {
    // the handler does not want the rest of the body: read and drop it, close after the response
    this.keepAlive = false;
  }

  respond(response: HttpResponse, isHead: boolean): void {
    if (this.state === CLOSED) return;
    // the answer came before the whole request body: finish the response, then close (the rest of
    // the body would have to be read to find the next request)
    if (this.state === BODY) this.keepAlive = false;
    const upgrade = response.upgrade;
    if (this.connectAsked) {
      // after a refused CONNECT the client may already be sending tunnel bytes: never read them as HTTP
      if (response.status < 200 || response.status > 299) this.keepAlive = false;
      else if (this.state === WAIT) return this.established(upgrade);
    }
    if (upgrade) {
      if (response.status === 101 && this.upgradeAsked && this.state === WAIT) return this.switchProtocols(response, upgrade);
      // a tunnel the client did not ask for (or mid-body): nothing to join it to
      upgrade.destroy();
      return this.close(false);
    }
    this.writing = true;
    const written = writeResponse(this, response, isHead, this.head.minor, this.keepAlive);
    if (written instanceof Promise) written.then(this.onWritten);
    else this.written(written);
  }

  /** writes the 101, then joins this connection's bytes with the upstream's, both ways */
  switchProtocols(response: HttpResponse, upstream: ByteChannel): void {
    this.tunnel(writeSwitchingProtocols(response), upstream);
  }

  /**
   * A CONNECT answered 2xx. With the upstream's byte channel the tunnel is spliced to it; without
   * one, the tunnel ends here (a destination whose port speaks HTTP): the requests inside it are
   * read from this connection and routed like any other, Host by Host.
   */
  established(upstream: ByteChannel | undefined): void {
    if (upstream) return this.tunnel(ESTABLISHED, upstream);
    this.socket.write(ESTABLISHED);
    this.keepAlive = true;
    this.written(KEEP);
  }

  /** writes head, then the connection is a byte pipe to upstream (bytes already received first) */
  tunnel(head: Uint8Array, upstream: ByteChannel): void {
    this.state = TUNNEL;
    this.keepAlive = false;
    this.socket.write(head);
    const buffered = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.channel = new TransportChannel(this.socket, buffered, () => this.tunnelGone());
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    const options = this.options;
    this.splice = splice(this.channel, upstream, { clock: options.clock ?? systemClock, idleTimeoutMs: options.tunnelIdleTimeoutMs ?? TUNNEL_IDLE_TIMEOUT_MS });
  }

  tunnelGone(): void {
    this.state = CLOSED;
    this.options.lifecycle.closed(this);
  }

  /** a draining listener ends a tunnel on both sides (FIN after what is queued) */
  drainTunnel(): void {
    this.splice?.stop();
    this.http2?.stop();
  }

  written(outcome: Written): void {
    this.writing = false;
    if (this.state === CLOSED) return;
    if (outcome !== KEEP || !this.keepAlive || this.options.lifecycle.draining) return this.close(outcome !== FAILED);
    this.next();
  }

  /** the response is written and the connection stays: read the next request */
  next(): void {
    this.state = HEAD;
    this.reader.reset();
    const buffered = this.buffered;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (buffered.length === 0) return;
    this.buffered = [];
    this.bufferedBytes = 0;
    for (const bytes of buffered) {
      if (this.state === CLOSED) return;
      if (this.state === WAIT) this.keep(bytes);
      else this.consume(bytes, 0);
    }
  }

  // ResponseSink
  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => (this.drainWaiter = resolve));
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  onDrain(): void {
    if (this.state === TUNNEL) return this.channel!.drain();
    const waiter = this.drainWaiter;
    this.drainWaiter = null;
    waiter?.();
  }

  onClose(error: Error | null): void {
    if (this.state === TUNNEL) return this.channel!.closed(error);
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.bodyFailed(new Error("client closed the connection"));
    this.onDrain();
    this.options.lifecycle.closed(this);
  }

  /** no request is being read or answered */
  get idle(): boolean {
    return (this.state === HEAD && this.reader.pending === 0 && !this.writing) || (this.state === SNIFF && !this.sniffed);
  }

  /** a malformed request: Envoy's local reply, then the connection closes */
  refuse(error: HeadError): void {
    if (this.state === CLOSED) return;
    this.keepAlive = false;
    if (this.writing) return this.close(false);
    this.state = WAIT;
    this.writing = true;
    const written = writeResponse(this, this.options.badRequest(error), false, 1, false);
    if (written instanceof Promise) written.then((outcome) => this.close(outcome !== FAILED));
    else this.close(written !== FAILED);
  }

  close(graceful: boolean): void {
    if (this.state === TUNNEL) return graceful ? this.drainTunnel() : this.channel!.destroy();
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.options.lifecycle.closed(this);
    this.bodyFailed(new Error("connection closed"));
    if (graceful) this.socket.end();
    else this.socket.destroy();
  }
}

/** the request target as received, without an absolute-form's scheme and authority */
function rawOriginTarget(target: string): string {
  if (target.charCodeAt(0) === 47 /* "/" */) return target;
  const authority = target.indexOf("//");
  if (authority === -1) return target;
  let at = authority + 2;
  while (at < target.length && target[at] !== "/" && target[at] !== "?") at++;
  return at === target.length ? "/" : target[at] === "?" ? "/" + target.slice(at) : target.slice(at);
}

