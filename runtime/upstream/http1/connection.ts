// One HTTP/1.1 connection to one upstream address: writes an exchange's head (one write), reads the
// response head, frames the body (Content-Length, chunked, or until close) and hands it out as a
// web Response. A body already complete in the bytes that carried the head becomes a plain byte
// body; otherwise a ReadableStream that pauses the socket while its consumer is behind.
import { UpstreamError } from "../../platform/types.ts";
import { BODY_STRATEGY, BodySource, type BodyOwner } from "../../exchange/http1/body-source.ts";
import { concat, piece } from "../../platform/http1/bytes.ts";
import { CHUNKED_DONE, ChunkedDecoder } from "../../exchange/http1/chunked.ts";
import { DONE, SENDING, STREAMING, type Exchange } from "./request-exchange.ts";
import { CHUNKED, frame, LENGTH, NO_BODY, UNTIL_CLOSE, type Framing } from "../../exchange/http1/response-framing.ts";
import { HeadReader } from "../../exchange/http1/response-head-reader.ts";
import { ResponseHead } from "../../exchange/http1/response-head.ts";
import type { Transport, TransportHandler } from "../../platform/http1/transport.ts";
import { unrefTimer } from "../../platform/http1/timers.ts";
import { BytesResponse } from "../../exchange/known-body.ts";
import { HeaderList } from "../../exchange/header-list.ts";
import { MeshResponse } from "../../exchange/response.ts";
import type { HttpResponse } from "../../exchange/types.ts";
import { TransportChannel } from "../../exchange/transport-channel.ts";

export const CONNECTING = 0;
export const BUSY = 1;
export const IDLE = 2;
export const CLOSED = 3;
/** half-closed by us (FIN sent), waiting for the upstream's close: the connection still holds its
 * pool slot, so a maxConnections limit also holds as the upstream counts connections */
export const CLOSING = 4;
/** answered 101: a tunnel now, outside the pool's reuse, still holding its connection slot */
export const UPGRADED = 5;
/** how long a half-closed connection may wait for the upstream's close before it is reset */
const CLOSING_GRACE_MS = 1000;

function graceExpired(conn: Connection): void {
  conn.close(true);
}

const HEAD = 0; // reading the response head
const BODY = 1; // reading the body
const COMPLETE = 2; // the response is fully read

/** the per-address bookkeeping a connection belongs to */
export interface HostEntry {
  readonly address: string;
  readonly hostname: string;
  readonly port: number;
  readonly idle: Connection[];
  readonly all: Set<Connection>;
}

export interface ConnectionOwner {
  /** the response is complete and the connection may carry another request */
  released(conn: Connection): void;
  /** the connection takes no more requests; it may hold its slot until connectionClosed */
  connectionClosing(conn: Connection): void;
  /** the connection is gone; resend: an exchange to send again on a fresh connection */
  connectionClosed(conn: Connection, resend: Exchange | null): void;
  /** the socket is open; the exchange that waited for it is about to start */
  connected(conn: Connection): void;
}

export class Connection implements TransportHandler, BodyOwner, Framing {
  state = CONNECTING;
  transport!: Transport;
  exchange: Exchange | null = null;
  /** requests started on this connection */
  requests = 0;
  idleSince = 0;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** in CLOSING: half-closed, slot still held */
  lingering = false;
  /** its exchange counts against the pending-request limit until the socket opens (Envoy's accounting) */
  holdsPending = false;
  drainResolve: (() => void) | null = null;

  // the response being read
  phase = HEAD;
  readonly head = new ResponseHead();
  readonly headReader = new HeadReader();
  gotBytes = false;
  reused = false;
  keepAlive = true;
  mode = NO_BODY;
  remaining = 0;
  chunked: ChunkedDecoder | null = null;
  source: BodySource | null = null;
  paused = false;
  /** after a 101: the upstream's side of the tunnel */
  channel: TransportChannel | null = null;
  /** body bytes read before the Response was handed out */
  pieces: Uint8Array[] = [];
  piecesBytes = 0;

  constructor(
    readonly owner: ConnectionOwner,
    readonly host: HostEntry,
  ) {}

  // ---- request side ----

  /** starts an exchange on this (open, free) connection */
  start(exchange: Exchange): void {
    this.state = BUSY;
    this.exchange = exchange;
    exchange.conn = this;
    exchange.state = SENDING;
    this.reused = this.requests > 0;
    this.requests++;
    this.phase = HEAD;
    this.headReader.reset();
    this.gotBytes = false;
    this.keepAlive = true;
    this.headReader.acceptUpgrade = exchange.upgrade;
    this.transport.write(exchange.head);
    if (exchange.request.body === null) exchange.requestSent = true;
    else exchange.pump(this);
  }

  write(data: Uint8Array): boolean {
    return this.transport.write(data);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => (this.drainResolve = resolve));
  }

  requestBodyFailed(error: unknown): void {
    const reason = new UpstreamError("reset", `request body failed: ${(error as Error)?.message ?? error}`);
    this.fail(reason);
  }

  // ---- transport events ----

  onOpen(): void {
    clearTimeout(this.connectTimer);
    this.owner.connected(this);
    const exchange = this.exchange;
    if (exchange) this.start(exchange);
  }

  onDrain(): void {
    if (this.state === UPGRADED) return this.channel!.drain();
    const resolve = this.drainResolve;
    this.drainResolve = null;
    resolve?.();
  }

  onData(chunk: Uint8Array): void {
    if (this.state === UPGRADED) return this.channel!.data(chunk);
    if (this.state !== BUSY) {
      if (this.state === CLOSING) return; // the tail of a connection we are leaving
      // bytes nobody asked for: the connection cannot be trusted with another request
      this.close(true);
      return;
    }
    this.gotBytes = true;
    if (this.phase === HEAD) {
      const start = this.readHead(chunk);
      if (start < 0) return;
      const data = this.headReader.data;
      if (this.head.status === 101) return this.switched(start < data.byteLength ? [data.subarray(start)] : []);
      if (start < data.byteLength) {
        if ((this.phase as number) === BODY) this.readBody(data, start);
        else this.keepAlive = false; // bytes after a response without a body
      }
      this.deliver();
      return;
    }
    if (this.phase === BODY) this.readBody(chunk, 0);
    else this.keepAlive = false; // bytes after a complete response
  }

  onClose(error: Error | null): void {
    if (this.state === UPGRADED) return this.channel!.closed(error);
    const state = this.state;
    if (state === CLOSED) return;
    this.state = CLOSED;
    if (state === CLOSING) {
      clearTimeout(this.graceTimer);
      this.owner.connectionClosed(this, null);
      return;
    }
    clearTimeout(this.connectTimer);
    this.onDrain();
    const exchange = this.exchange;
    this.exchange = null;
    if (state === CONNECTING) {
      this.owner.connectionClosed(this, null);
      exchange?.fail(new UpstreamError("connect", `connection failure (${describe(error)})`));
      return;
    }
    if (!exchange || state !== BUSY) {
      this.owner.connectionClosed(this, null);
      return;
    }
    if (this.phase === HEAD) {
      // the keep-alive race: a reused connection the server closed before answering
      const resend = !this.gotBytes && this.reused && !exchange.retried && (exchange.request.body === null || !exchange.bodyTouched);
      if (resend) {
        exchange.retried = true;
        exchange.conn = null;
        this.owner.connectionClosed(this, exchange);
        return;
      }
      this.owner.connectionClosed(this, null);
      exchange.fail(new UpstreamError("reset", `upstream closed before a complete response head (${describe(error)})`));
      return;
    }
    this.owner.connectionClosed(this, null);
    if (this.phase === BODY) {
      if (this.mode === UNTIL_CLOSE && error === null) {
        this.phase = COMPLETE;
        this.keepAlive = false;
        this.exchange = exchange;
        this.completeBody();
      } else this.bodyFailed(exchange, new UpstreamError("reset", `upstream closed mid-body (${describe(error)})`));
    }
  }

  // ---- response side ----

  /** returns where the body starts in headReader.data, or -1 when the head is incomplete or bad */
  private readHead(chunk: Uint8Array): number {
    const reader = this.headReader;
    const start = reader.read(chunk, this.head);
    if (start < 0) {
      // bytes that are no response head: Envoy's protocol error (502 UPE), not a reset
      if (reader.error) this.fail(new UpstreamError("protocol", reader.error));
      return -1;
    }
    frame(this.head, this.exchange!.isHead, this);
    this.pieces.length = 0;
    this.piecesBytes = 0;
    this.source = null;
    if (this.mode === CHUNKED) {
      if (this.chunked) this.chunked.reset();
      else this.chunked = new ChunkedDecoder();
    }
    this.phase = this.mode === NO_BODY ? COMPLETE : BODY;
    return start;
  }

  /** frames the body bytes data[start..] */
  private readBody(data: Uint8Array, start: number): void {
    const end = data.byteLength;
    if (this.mode === LENGTH) {
      const n = Math.min(end - start, this.remaining);
      if (n > 0) this.onBodyBytes(piece(data, start, start + n));
      this.remaining -= n;
      if (start + n < end) this.keepAlive = false;
      if (this.remaining === 0) this.bodyComplete();
      return;
    }
    if (this.mode === CHUNKED) {
      const decoder = this.chunked!;
      const used = decoder.decode(data, start, end, this);
      if (used < 0) {
        this.fail(new UpstreamError("protocol", `invalid upstream chunked body: ${decoder.error}`));
        return;
      }
      if (decoder.state === CHUNKED_DONE) {
        if (used < end) this.keepAlive = false;
        this.bodyComplete();
      }
      return;
    }
    this.onBodyBytes(piece(data, start, end));
  }


  /** ChunkSink, and the one place body bytes go */
  onBodyBytes(bytes: Uint8Array): void {
    const source = this.source;
    if (source === null) {
      this.pieces.push(bytes);
      this.piecesBytes += bytes.byteLength;
      return;
    }
    source.controller.enqueue(bytes);
    if (!this.paused && source.controller.desiredSize! <= 0) {
      this.paused = true;
      this.transport.pause();
    }
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.state === BUSY) this.transport.resume();
  }

  /** builds the Response once the head (and whatever body came with it) is read */
  private deliver(): void {
    const exchange = this.exchange;
    if (!exchange || this.state !== BUSY) return; // failed while reading the body bytes
    const head = this.head;
    const complete = this.phase === COMPLETE;
    let body: BodyInit | null = null;
    if (!complete) {
      const source = new BodySource(this);
      body = new ReadableStream(source, BODY_STRATEGY);
      this.source = source;
      const pieces = this.pieces;
      for (let i = 0; i < pieces.length; i++) source.controller.enqueue(pieces[i]);
      pieces.length = 0;
      if (source.controller.desiredSize! <= 0) {
        this.paused = true;
        this.transport.pause();
      }
    } else if (this.piecesBytes > 0) body = concat(this.pieces, this.piecesBytes) as Uint8Array<ArrayBuffer>;
    this.pieces.length = 0;
    let response: HttpResponse;
    try {
      const headers = new HeaderList();
      const names = head.names;
      const lowerNames = head.lowerNames;
      const values = head.values;
      // each name is checked to be a token, as a Headers would, but a common one, which is (its
      // lowercase form from the parser); the values parseHead already did
      for (let i = 0; i < head.count; i++) {
        const lower = lowerNames[i];
        if (lower) headers.add(lower, values[i]);
        else headers.appendParsed(names[i], values[i]);
      }
      response = newResponse(body, head.status, head.statusText, headers);
    } catch (error) {
      this.fail(new UpstreamError("protocol", `invalid upstream response: ${(error as Error).message}`));
      return;
    }
    exchange.succeed(response, false);
    if (complete) this.responseDone();
  }

  /**
   * The upstream switched protocols: the connection leaves the pool's reuse (it holds its slot
   * until the tunnel closes, as Envoy counts an upgraded stream's connection) and its bytes, those
   * after the 101 first, belong to whoever the 101 is handed to.
   */
  private switched(leftover: Uint8Array[]): void {
    const exchange = this.exchange!;
    const head = this.head;
    this.exchange = null;
    this.state = UPGRADED;
    this.owner.connectionClosing(this);
    this.channel = new TransportChannel(this.transport, leftover, () => {
      this.state = CLOSED;
      this.owner.connectionClosed(this, null);
    });
    const headers = new HeaderList();
    for (let i = 0; i < head.count; i++) headers.append(head.names[i], head.values[i]);
    exchange.succeed(new MeshResponse(101, head.statusText, headers, null, undefined, this.channel), true);
  }

  /** the body's last byte arrived */
  private bodyComplete(): void {
    this.phase = COMPLETE;
    if (this.source) this.completeBody();
    // otherwise deliver() sees COMPLETE and hands out a byte body
  }

  private completeBody(): void {
    const source = this.source!;
    this.source = null;
    source.owner = null;
    source.controller.close();
    this.responseDone();
  }

  /** the response is fully read: free the exchange and the connection */
  private responseDone(): void {
    const exchange = this.exchange;
    if (!exchange) return;
    // Answered before the request body was all sent: like Envoy, stop sending (finish() cancels
    // the body) and drop the connection, which is mid-request.
    this.exchange = null;
    exchange.finish();
    if (this.state !== BUSY) return;
    if (this.paused) {
      this.paused = false;
      this.transport.resume();
    }
    if (this.keepAlive && exchange.requestSent) this.owner.released(this);
    else this.close(!exchange.requestSent);
  }

  bodyCancelled(): void {
    const exchange = this.exchange;
    this.source = null;
    this.exchange = null;
    exchange?.finish();
    this.close(true);
  }

  abort(error: UpstreamError): void {
    this.fail(error);
  }

  /** fails the current exchange (before or after its head) and drops the connection */
  fail(error: UpstreamError): void {
    const exchange = this.exchange;
    this.exchange = null;
    this.close(true);
    if (exchange) this.bodyFailed(exchange, error);
  }

  private bodyFailed(exchange: Exchange, error: UpstreamError): void {
    const source = this.source;
    this.source = null;
    if (exchange.state === STREAMING && source) {
      source.owner = null;
      exchange.finish();
      source.controller.error(error);
    } else if (exchange.state !== DONE) exchange.fail(error);
  }

  // ---- lifecycle ----

  connectTimedOut(): void {
    if (this.state !== CONNECTING) return;
    const exchange = this.exchange;
    this.exchange = null;
    this.close(true);
    exchange?.fail(new UpstreamError("connect-timeout", "upstream connect timeout"));
  }

  /**
   * Closes the connection and tells the pool. Hard: reset now, slot freed now. Otherwise
   * half-close and hold the slot until the upstream has closed its side too (onClose), at most
   * CLOSING_GRACE_MS, so the upstream never sees the next connection while it still holds this.
   */
  close(hard: boolean): void {
    const state = this.state;
    if (state === CLOSED) return;
    if (state === UPGRADED) return hard ? this.channel!.destroy() : this.channel!.end();
    clearTimeout(this.connectTimer);
    this.onDrain();
    if (hard || state === CONNECTING) {
      this.state = CLOSED;
      clearTimeout(this.graceTimer);
      if (state !== CLOSING) this.owner.connectionClosing(this);
      this.transport.destroy();
      this.owner.connectionClosed(this, null);
      return;
    }
    if (state === CLOSING) return;
    this.state = CLOSING;
    this.lingering = true;
    this.owner.connectionClosing(this);
    this.transport.ref(false);
    this.graceTimer = unrefTimer(setTimeout(graceExpired, CLOSING_GRACE_MS, this));
    this.transport.end();
  }
}

/**
 * The response as the proxy passes it on: the bytes themselves when the body came whole, else the
 * body's stream. The statuses and reason phrases a Web Response would refuse are refused or
 * dropped the same way (a reason phrase is only text; the status is what matters).
 */
function newResponse(body: BodyInit | null, status: number, statusText: string, headers: HeaderList): HttpResponse {
  if (status < 200 || status > 599) throw new Error(`status ${status}`);
  const reason = statusText === "OK" || validReason(statusText) ? statusText : "";
  if (body === null || body instanceof Uint8Array) return new BytesResponse(status, reason, headers, body);
  return new MeshResponse(status, reason, headers, body as ReadableStream<Uint8Array>);
}

/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
function validReason(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

function describe(error: Error | null): string {
  if (!error) return "closed";
  const code = (error as { code?: string }).code;
  return code ? `${code}: ${error.message}` : error.message || error.name;
}
