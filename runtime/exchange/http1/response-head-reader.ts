// Collects a response head that may arrive in pieces, skips interim (1xx) responses, and parses
// the final head. The common case — the whole head in one chunk — copies nothing.
import { latin1 } from "../../platform/http1/bytes.ts";
import { headEnd as findHeadEnd } from "./head-scan.ts";
import { isToken, MAX_HEAD_BYTES, parseHead, type ResponseHead } from "./response-head.ts";

const EMPTY = new Uint8Array(0);

export class HeadReader {
  /** after a successful read(): the bytes the returned offset points into */
  data: Uint8Array = EMPTY;
  buf: Uint8Array | null = null;
  len = 0;
  /** why the last read() failed */
  error = "";
  /** the request asked to switch protocols: a 101 is its final answer, not a failure */
  acceptUpgrade = false;

  reset(): void {
    this.buf = null;
    this.len = 0;
    this.error = "";
  }

  /**
   * Feeds a chunk. Returns where the bytes after the final head (parsed into head) start in data,
   * or -1: more bytes needed (error is "") or the head is bad (error says why).
   */
  read(chunk: Uint8Array, head: ResponseHead): number {
    let buf = chunk;
    let len = chunk.byteLength;
    let from = 0;
    if (this.buf) {
      from = this.len - 3;
      len = this.len + chunk.byteLength;
      if (len > this.buf.byteLength) {
        const grown = new Uint8Array(Math.max(len, this.buf.byteLength * 2));
        grown.set(this.buf.subarray(0, this.len));
        this.buf = grown;
      }
      this.buf.set(chunk, this.len);
      this.len = len;
      buf = this.buf;
    }
    let start = 0;
    for (;;) {
      const end = findHeadEnd(buf, from, len);
      if (end < 0) {
        if (len - start > MAX_HEAD_BYTES) return this.fail("upstream response head too large");
        if (buf !== this.buf || start > 0) {
          const kept = new Uint8Array(Math.max(4096, (len - start) * 2));
          kept.set(buf.subarray(start, len));
          this.buf = kept;
          this.len = len - start;
        }
        return -1;
      }
      if (end - start > MAX_HEAD_BYTES) return this.fail("upstream response head too large");
      const error = parseHead(latin1(buf, start, end - 4), head);
      if (error) return this.fail(`invalid upstream response: ${error}`);
      const status = head.status;
      if (status >= 200) {
        // as Envoy: in HTTP/1.1 "chunked" alone, no other coding, no second line (llhttp reads "gzip,
        // chunked" as chunked), and never beside a Content-Length (Envoy and llhttp refuse it: two
        // framings are a smuggling sign, RFC 9112 §6.3 lets us call it an error). An HTTP/1.0
        // response's Transfer-Encoding is faulty framing, read until close (response-framing.ts)
        if (head.minor === 1 && head.transferEncoding) {
          if (head.otherCoding) return this.fail("invalid upstream response: unsupported transfer encoding");
          if (head.contentLength >= 0) return this.fail("invalid upstream response: both content-length and transfer-encoding");
        }
        this.buf = null;
        this.data = len === buf.byteLength ? buf : buf.subarray(0, len);
        return end;
      }
      if (status === 101) {
        if (!this.acceptUpgrade) return this.fail("unexpected 101 from upstream");
        this.buf = null;
        this.data = len === buf.byteLength ? buf : buf.subarray(0, len);
        return end;
      }
      // an interim response (100 Continue, 103 Early Hints) is skipped, but its fields are checked as
      // a final head's are when the Response is built: a bad one is a bad upstream
      for (let i = 0; i < head.count; i++) {
        const value = head.values[i];
        if (!isToken(head.names[i]) || value.indexOf("\r") >= 0 || value.indexOf("\n") >= 0) return this.fail("invalid upstream response: invalid interim header");
      }
      // the next head's end is searched from 3 bytes into it: the CRLFCRLF must lie inside it, not
      // borrow the interim head's last CRLF (a lone CRLF after an interim head would end a
      // "head" in one chunk and not in two)
      start = end;
      from = end + 3;
    }
  }

  private fail(message: string): number {
    this.buf = null;
    this.error = message;
    return -1;
  }
}
