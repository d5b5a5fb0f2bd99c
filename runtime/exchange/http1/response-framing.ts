// How a response body is delimited (RFC 9112 §6.3) and whether the connection can carry another
// request afterwards, from the request method, the status and the head.
import type { ResponseHead } from "./response-head.ts";

export const NO_BODY = 0;
export const LENGTH = 1;
export const CHUNKED = 2;
export const UNTIL_CLOSE = 3;

export interface Framing {
  mode: number;
  /** LENGTH: the bytes still to come */
  remaining: number;
  keepAlive: boolean;
}

export function frame(head: ResponseHead, isHead: boolean, out: Framing): void {
  const status = head.status;
  out.keepAlive = head.keepAlive;
  out.remaining = 0;
  if (isHead || status === 204 || status === 304) {
    out.mode = NO_BODY;
    return;
  }
  if (status === 205) {
    // must not have content (RFC 9110 §15.3.6) and a Response cannot carry any: if the server
    // framed some anyway, the connection is not worth reading clean
    out.mode = NO_BODY;
    if (head.transferEncoding || head.contentLength !== 0) out.keepAlive = false;
    return;
  }
  if (head.transferEncoding) {
    // HTTP/1.0 has no Transfer-Encoding: the framing is faulty whatever the header says (RFC 9112
    // §6.1, even beside a Content-Length), so the body is whatever comes until the server closes
    if (head.minor === 0) {
      out.mode = UNTIL_CLOSE;
      out.keepAlive = false;
      return;
    }
    if (head.contentLength >= 0) out.keepAlive = false; // both given (HeadReader refuses it in 1.1): never reuse
    if (head.chunked) {
      out.mode = CHUNKED;
      return;
    }
    out.mode = UNTIL_CLOSE;
    out.keepAlive = false;
    return;
  }
  if (head.contentLength >= 0) {
    out.mode = head.contentLength === 0 ? NO_BODY : LENGTH;
    out.remaining = head.contentLength;
    return;
  }
  out.mode = UNTIL_CLOSE;
  out.keepAlive = false;
}
