// One request through the pool: its serialised head, its promise, its abort listener (the object
// itself, via handleEvent, so no closure per request), and the pump that streams its body onto
// whichever connection carries it.
import { UpstreamError, type UpstreamRequest } from "../../platform/types.ts";
import { latin1Bytes } from "../../platform/http1/bytes.ts";
import { requestHeadBytes, type BodyFraming } from "../../exchange/http1/request-head-writer.ts";
import type { Connection } from "./connection.ts";
import { targetOf } from "./client.ts";
import type { HttpResponse } from "../../exchange/types.ts";
import { hasChecked } from "../../exchange/header-list.ts";

export const WAITING = 0; // in the pending queue, or its connection is still opening
export const SENDING = 1; // head written, no response head yet
export const STREAMING = 2; // response handed out, body still arriving
export const DONE = 3;

const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]); // "0\r\n\r\n"
const SMALL_CHUNK = 16 * 1024; // below this, size line + data + CRLF go out as one write

export interface ExchangeOwner {
  removePending(exchange: Exchange): void;
}

export class Exchange implements BodyFraming {
  state = WAITING;
  conn: Connection | null = null;
  resolve!: (response: HttpResponse) => void;
  reject!: (error: unknown) => void;
  readonly head: Uint8Array;
  readonly isHead: boolean;
  /** the request asks to switch protocols (it carries Upgrade, which only an allowed upgrade keeps) */
  readonly upgrade: boolean;
  contentLength = -1;
  /** the keep-alive race re-send was used */
  retried = false;
  /** reading of the request body has begun: from here on it cannot be sent again */
  bodyTouched = false;
  /** head and body are fully written */
  requestSent = false;
  reader: ReadableStreamDefaultReader<Uint8Array> | null = null;

  constructor(
    readonly owner: ExchangeOwner,
    readonly address: string,
    readonly request: UpstreamRequest,
  ) {
    // throws TypeError on CR/LF or a bad method/target: before any connection is touched
    this.head = requestHeadBytes(request.method, request.target ?? targetOf(request.url), request.headers, request.body !== null, this);
    this.isHead = request.method === "HEAD";
    this.upgrade = hasChecked(request.headers, "upgrade");
  }

  /** the abort signal fired */
  handleEvent(): void {
    const error = new UpstreamError("aborted", "request aborted");
    if (this.state === DONE) return;
    if (this.conn) this.conn.abort(error);
    else {
      this.owner.removePending(this);
      this.fail(error);
    }
  }

  succeed(response: HttpResponse, complete: boolean): void {
    if (this.state === DONE) return;
    this.state = complete ? DONE : STREAMING;
    if (complete) this.finish();
    this.resolve(response);
  }

  /** the response (head or body) failed, or the request never got one */
  fail(error: unknown): void {
    if (this.state === DONE) return;
    this.state = DONE;
    this.finish();
    this.reject(error);
  }

  /** the response body is complete (or failed after the head was handed out) */
  finish(): void {
    this.state = DONE;
    this.conn = null;
    this.request.signal?.removeEventListener("abort", this);
    if (!this.requestSent && this.reader) this.reader.cancel().catch(() => {});
  }

  /** streams the request body onto conn; the connection is told when it is all written */
  async pump(conn: Connection): Promise<void> {
    const reader = (this.reader = this.request.body!.getReader());
    const fixed = this.contentLength;
    let sent = 0;
    try {
      for (;;) {
        this.bodyTouched = true;
        const { done, value } = await reader.read();
        if (this.conn !== conn) return; // the exchange ended (abort, reset, early response)
        if (done) break;
        const n = value.byteLength;
        if (n === 0) continue;
        let ok: boolean;
        if (fixed >= 0) {
          if (sent + n > fixed) throw new Error("request body longer than its content-length");
          ok = conn.write(value);
        } else ok = writeChunk(conn, value);
        sent += n;
        if (!ok) {
          await conn.drained();
          if (this.conn !== conn) return;
        }
      }
      if (fixed >= 0 && sent !== fixed) throw new Error("request body shorter than its content-length");
      if (fixed < 0) conn.write(LAST_CHUNK);
      this.requestSent = true;
      this.reader = null;
    } catch (error) {
      if (this.conn === conn) conn.requestBodyFailed(error);
    }
  }
}

function writeChunk(conn: Connection, chunk: Uint8Array): boolean {
  const n = chunk.byteLength;
  const size = n.toString(16);
  if (n > SMALL_CHUNK) {
    conn.write(latin1Bytes(size + "\r\n"));
    conn.write(chunk);
    return conn.write(CRLF);
  }
  const out = new Uint8Array(size.length + n + 4);
  for (let i = 0; i < size.length; i++) out[i] = size.charCodeAt(i);
  out[size.length] = 13;
  out[size.length + 1] = 10;
  out.set(chunk, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return conn.write(out);
}
