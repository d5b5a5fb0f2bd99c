// Writes a Web Response onto an HTTP/1.1 connection: the head in one write together with the first
// piece of the body when that is small, then the body as it comes — as sent when its length is
// known, chunked when not (close-delimited for HTTP/1.0). The connection's own framing headers
// (Connection, Keep-Alive, Transfer-Encoding) are always ours; a Content-Length given is kept.
import { latin1Bytes } from "../../platform/http1/bytes.ts";

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

/** one head builder at module level: Headers.forEach is synchronous, so it is never shared */
const head = { text: "", length: -1 };

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
  this.text += name + ": " + value + "\r\n";
}

const COALESCE_BELOW = 16 * 1024;
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([48, 13, 10, 13, 10]);

/**
 * Writes response; resolves true when all of it went out and the connection may carry another
 * request (as far as the response is concerned), false when it failed midway.
 */
export async function writeResponse(sink: ResponseSink, response: Response, isHead: boolean, minor: number, keepAlive: boolean): Promise<boolean> {
  const status = response.status;
  head.text = "HTTP/1.1 " + status + " " + (response.statusText || REASONS[status] || "Unknown") + "\r\n";
  head.length = -1;
  const headers = response.headers;
  headers.forEach(appendHeader as (value: string, name: string) => void, head);
  let text = head.text;
  let length = head.length;
  head.text = "";
  for (const cookie of headers.getSetCookie()) text += "set-cookie: " + cookie + "\r\n";
  const bodiless = isHead || status === 204 || status === 304 || status < 200;
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
  const headBytes = latin1Bytes(text + "\r\n");
  if (body === null) {
    if (!bodiless) void response.body?.cancel().catch(() => {});
    sink.write(headBytes);
    return keepAlive;
  }
  const reader = body.getReader();
  try {
    let first = await reader.read();
    if (sink.closed) {
      await reader.cancel().catch(() => {});
      return false;
    }
    // head and a small first piece in one write: one packet for a small response
    if (!first.done && !chunked && first.value.byteLength < COALESCE_BELOW) {
      const joined = new Uint8Array(headBytes.byteLength + first.value.byteLength);
      joined.set(headBytes);
      joined.set(first.value, headBytes.byteLength);
      if (!sink.write(joined)) await sink.drained();
      first = await reader.read();
    } else if (!sink.write(headBytes)) await sink.drained();
    for (let piece = first; !piece.done; piece = await reader.read()) {
      if (sink.closed) {
        await reader.cancel().catch(() => {});
        return false;
      }
      const bytes = piece.value;
      if (bytes.byteLength === 0) continue;
      let ok: boolean;
      if (chunked) {
        sink.write(latin1Bytes(bytes.byteLength.toString(16) + "\r\n"));
        sink.write(bytes);
        ok = sink.write(CRLF);
      } else ok = sink.write(bytes);
      if (!ok) await sink.drained();
    }
    if (sink.closed) return false;
    if (chunked) sink.write(LAST_CHUNK);
    return keepAlive;
  } catch {
    await reader.cancel().catch(() => {});
    return false;
  }
}
