// Writes a Web Response onto an HTTP/1.1 connection: the head in one write together with the first
// piece of the body when that is small, then the body as it comes — as sent when its length is
// known, chunked when not (close-delimited for HTTP/1.0). The connection's own framing headers
// (Connection, Keep-Alive, Transfer-Encoding) are always ours; a Content-Length given is kept.
import { headBytes, latin1Bytes } from "../../platform/http1/bytes.ts";
import { knownBody } from "../known-body.ts";
import { HeaderList } from "../header-list.ts";
import type { HttpResponse } from "../types.ts";

export interface ResponseSink {
  /** false: wait for drained() before writing more */
  write(bytes: Uint8Array): boolean;
  drained(): Promise<void>;
  readonly closed: boolean;
}

const REASONS: Record<number, string> = {
  100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect",
  308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 408: "Request Timeout", 413: "Payload Too Large", 414: "URI Too Long",
  429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
  501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/**
 * One head builder at module level: Headers.forEach is synchronous, so it is never shared. The
 * fields to write go into its arrays (reused), and headBytes writes them (on Bun each natively, no
 * string of the whole head).
 */
const head = { names: [] as string[], values: [] as string[], count: 0, length: -1 };

function appendHeader(this: typeof head, value: string, name: string): void {
  switch (name) {
    case "connection":
    case "keep-alive":
    case "transfer-encoding":
      return;
    case "content-length":
      this.length = Number(value);
      break;
    case "set-cookie":
      return; // written one per line below: forEach joins them
  }
  this.names[this.count] = name;
  this.values[this.count] = value;
  this.count++;
}

/**
 * The fields into head: a HeaderList's in the order they came (each set-cookie on its own line, as
 * every field), a Headers' through forEach (sorted, combined) and its cookies after.
 */
function appendHeaders(headers: Headers): void {
  head.count = 0;
  head.length = -1;
  if (headers instanceof HeaderList) {
    const names = headers.fieldNames;
    const values = headers.fieldValues;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === "set-cookie") {
        head.names[head.count] = name;
        head.values[head.count++] = values[i];
      } else appendHeader.call(head, values[i], name);
    }
    return;
  }
  headers.forEach(appendHeader as (value: string, name: string) => void, head);
  for (const cookie of headers.getSetCookie()) {
    head.names[head.count] = "set-cookie";
    head.values[head.count++] = cookie;
  }
}

/** the head's bytes: start line, the fields in head, then end (the fields we add and the blank line), then tail */
function headOut(start: string, end: string, tail?: Uint8Array): Uint8Array {
  const bytes = headBytes(start, head.names, head.values, head.count, end, tail);
  // no response's strings kept past its head, and the arrays keep their room (emptied, they were
  // grown again by every response: ~300 bytes each on V8)
  for (let i = 0; i < head.count; i++) head.names[i] = head.values[i] = "";
  head.count = 0;
  return bytes;
}

const OK_LINE = "HTTP/1.1 200 OK\r\n";
const COALESCE_BELOW = 16 * 1024;
const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]);

/**
 * How a response went out. FAILED: not all of it (the connection is broken: drop it). CLOSE: all
 * of it, and the connection must end after it (the request asked, or the body is delimited by the
 * close): end it gracefully, after what is still queued, or the client loses the body's tail.
 * KEEP: all of it, and the connection may carry another request as far as the response is concerned.
 */
export const FAILED = 0;
export const CLOSE = 1;
export const KEEP = 2;
export type Written = typeof FAILED | typeof CLOSE | typeof KEEP;

const ending = (keepAlive: boolean): Written => (keepAlive ? KEEP : CLOSE);

/** Writes response; synchronous when the body is already in memory (knownBody), which is the usual case. */
export function writeResponse(sink: ResponseSink, response: HttpResponse, isHead: boolean, minor: number, keepAlive: boolean): Written | Promise<Written> {
  const status = response.status;
  const reason = response.statusText;
  // nearly every response: one flat literal, no number-to-text and no rope for latin1Write to flatten
  const start = status === 200 && (reason === "OK" || !reason) ? OK_LINE : "HTTP/1.1 " + status + " " + (reason || REASONS[status] || "Unknown") + "\r\n";
  appendHeaders(response.headers);
  let length = head.length;
  let text = ""; // the fields this writer adds, after the response's own
  const bodiless = isHead || status === 204 || status === 304 || status < 200;
  const known = bodiless ? undefined : knownBody(response);
  if (known !== undefined) {
    if (length < 0) text += "content-length: " + known.byteLength + "\r\n";
    if (!keepAlive) text += "connection: close\r\n";
    else if (minor === 0) text += "connection: keep-alive\r\n";
    sink.write(headOut(start, text + "\r\n", known)); // head and body: one array, one write
    return ending(keepAlive);
  }
  const body = bodiless ? null : response.body;
  let chunked = false;
  if (body === null) {
    if (!bodiless && length < 0) text += "content-length: 0\r\n";
    length = 0;
  } else if (length < 0) {
    if (minor >= 1) {
      chunked = true;
      text += "transfer-encoding: chunked\r\n";
    } else keepAlive = false;
  }
  if (!keepAlive) text += "connection: close\r\n";
  else if (minor === 0) text += "connection: keep-alive\r\n";
  const headArray = headOut(start, text + "\r\n");
  if (body === null) {
    if (!bodiless) void response.body?.cancel().catch(() => {});
    sink.write(headArray);
    return ending(keepAlive);
  }
  return writeStream(sink, body.getReader(), headArray, chunked, length, keepAlive);
}

/**
 * The head of a 101 that switches the connection to the upgraded protocol: the upstream's headers
 * (its Upgrade among them; headers.ts keeps it on a 101), Connection: upgrade, and no body framing.
 */
export function writeSwitchingProtocols(response: HttpResponse): Uint8Array {
  appendHeaders(response.headers);
  return headOut("HTTP/1.1 101 " + (response.statusText || "Switching Protocols") + "\r\n", "connection: upgrade\r\n\r\n");
}

async function writeStream(sink: ResponseSink, reader: ReadableStreamDefaultReader<Uint8Array>, headArray: Uint8Array, chunked: boolean, length: number, keepAlive: boolean): Promise<Written> {
  try {
    let first: ReadResult = await reader.read();
    if (sink.closed) return cancelled(reader);
    if (first.done) {
      sink.write(chunked ? join(headArray, LAST_CHUNK) : headArray);
      return ending(keepAlive);
    }
    // The head and the first piece go out in one write (one syscall, one packet for a small
    // response); with a known length that may already be the whole body. Nothing waits for a
    // second piece: a stream (a watch, server-sent events) must flow as it comes.
    if (first.value.byteLength < COALESCE_BELOW) {
      const whole = !chunked && first.value.byteLength === length;
      if (!sink.write(chunked ? framed(headArray, first.value, false) : join(headArray, first.value)) && !whole) await sink.drained();
      // the whole body is out: the stream has nothing more to give (its source already ended)
      if (whole) return ending(keepAlive);
      first = await reader.read();
    } else if (!sink.write(headArray)) await sink.drained();
    for (let piece: ReadResult = first; !piece.done; piece = await reader.read()) {
      if (sink.closed) return cancelled(reader);
      const bytes = piece.value;
      if (bytes.byteLength === 0) continue;
      if (!sink.write(chunked ? framed(EMPTY, bytes, false) : bytes)) await sink.drained();
    }
    if (sink.closed) return FAILED;
    if (chunked) sink.write(LAST_CHUNK);
    return ending(keepAlive);
  } catch {
    return cancelled(reader);
  }
}

const EMPTY = new Uint8Array(0);
type ReadResult = { done: true; value?: undefined } | { done: false; value: Uint8Array };

async function cancelled(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Written> {
  await reader.cancel().catch(() => {});
  return FAILED;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** before + one chunk in chunked framing (+ the last chunk when it ends the body), in one buffer */
function framed(before: Uint8Array, data: Uint8Array, last: boolean): Uint8Array {
  const size = latin1Bytes(data.byteLength.toString(16) + "\r\n");
  const out = new Uint8Array(before.byteLength + size.byteLength + data.byteLength + 2 + (last ? LAST_CHUNK.byteLength : 0));
  out.set(before);
  let at = before.byteLength;
  out.set(size, at);
  at += size.byteLength;
  out.set(data, at);
  at += data.byteLength;
  out[at++] = 13;
  out[at++] = 10;
  if (last) out.set(LAST_CHUNK, at);
  return out;
}
