// Incremental decoder for Transfer-Encoding: chunked (RFC 9112 §7.1). Chunk data is handed on as
// pieces of the input (views, or copies when small; see bytes.ts); extensions and trailers are
// checked and dropped. Trailer lines must be header fields (a token, a colon, a value without
// controls): a request line smuggled into the trailer section is a framing error, and since the
// body only counts as complete once the empty line after the trailers is read (CHUNKED_DONE), a
// proxy that ends its upstream body on CHUNKED_DONE never forwards the last chunk of such a body.
import { piece } from "../../platform/http1/bytes.ts";

export interface ChunkSink {
  onBodyBytes(bytes: Uint8Array): void;
}

const SIZE = 0;
const SIZE_OR_EXT = 1; // after at least one hex digit
const EXT = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER_START = 7;
const TRAILER_LINE = 8;
const TRAILER_LF = 9;
const END_LF = 10;
export const CHUNKED_DONE = 11;
const SIZE_BWS = 12; // whitespace after the size: only before ";" (RFC 9112 §7.1.1 BWS) or the CRLF
const TRAILER_VALUE = 13;

const MAX_SIZE_DIGITS = 13; // 16^13 stays below 2^53
const MAX_LINE = 64 * 1024; // chunk-ext and trailer bytes, in total per response

/** RFC 9110 §5.6.2 tchar, by char code */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** a control character other than HTAB, or DEL: never in an extension or a field value */
function control(c: number): boolean {
  return (c < 32 && c !== 9) || c === 127;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ChunkedDecoder {
  state = SIZE;
  size = 0;
  digits = 0;
  remaining = 0;
  lineBytes = 0;
  error = "";

  reset(): void {
    this.state = SIZE;
    this.size = 0;
    this.digits = 0;
    this.remaining = 0;
    this.lineBytes = 0;
    this.error = "";
  }

  /**
   * Decodes bytes [offset, end). Returns the index after the last byte used: end when more input
   * is needed, less once the body is complete (state CHUNKED_DONE), -1 on a framing error.
   */
  decode(bytes: Uint8Array, offset: number, end: number, sink: ChunkSink): number {
    let i = offset;
    while (i < end) {
      const state = this.state;
      if (state === DATA) {
        const n = Math.min(this.remaining, end - i);
        sink.onBodyBytes(piece(bytes, i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = DATA_CR;
        continue;
      }
      const c = bytes[i++];
      switch (state) {
        case SIZE:
        case SIZE_OR_EXT: {
          const h = hex(c);
          if (h >= 0) {
            // leading zeros are still one size (llhttp and Envoy read "0000000000000005" as 5):
            // only digits from the first non-zero one count against the limit, the zeros against
            // the line budget
            if (h !== 0 || this.size !== 0) {
              if (++this.digits > MAX_SIZE_DIGITS) return this.fail("chunk size too large");
            } else if (++this.lineBytes > MAX_LINE) return this.fail("chunk size too long");
            this.size = this.size * 16 + h;
            this.state = SIZE_OR_EXT;
          } else if (state === SIZE) return this.fail("invalid chunk size");
          else if (c === 13) this.state = SIZE_LF;
          else if (c === 59) this.state = EXT;
          else if (c === 32 || c === 9) this.state = SIZE_BWS;
          else return this.fail("invalid chunk size"); // "5 x", "0x5", "-1": one reading only
          break;
        }
        case SIZE_BWS:
          if (c === 59) this.state = EXT;
          else if (c === 13) this.state = SIZE_LF;
          else if ((c !== 32 && c !== 9) || ++this.lineBytes > MAX_LINE) return this.fail("invalid chunk size");
          break;
        case EXT:
          if (c === 13) this.state = SIZE_LF;
          else if (control(c) || ++this.lineBytes > MAX_LINE) return this.fail("invalid chunk extension");
          break;
        case SIZE_LF:
          if (c !== 10) return this.fail("invalid chunk line");
          this.digits = 0;
          if (this.size === 0) this.state = TRAILER_START;
          else {
            this.remaining = this.size;
            this.size = 0;
            this.state = DATA;
          }
          break;
        case DATA_CR:
          if (c !== 13) return this.fail("missing CRLF after chunk data");
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (c !== 10) return this.fail("missing CRLF after chunk data");
          this.state = SIZE;
          break;
        case TRAILER_START:
          if (c === 13) this.state = END_LF;
          else if (c < 128 && TCHAR[c] === 1 && ++this.lineBytes <= MAX_LINE) this.state = TRAILER_LINE;
          else return this.fail("invalid trailer"); // obs-fold, a bare LF, a name not a token
          break;
        case TRAILER_LINE: // the field name, up to its colon
          if (c === 58) this.state = TRAILER_VALUE;
          else if (c >= 128 || TCHAR[c] !== 1 || ++this.lineBytes > MAX_LINE) return this.fail("invalid trailer"); // a space: a request line
          break;
        case TRAILER_VALUE:
          if (c === 13) this.state = TRAILER_LF;
          else if (control(c) || ++this.lineBytes > MAX_LINE) return this.fail("invalid trailer");
          break;
        case TRAILER_LF:
          if (c !== 10) return this.fail("invalid trailer");
          this.state = TRAILER_START;
          break;
        case END_LF:
          if (c !== 10) return this.fail("invalid end of chunked body");
          this.state = CHUNKED_DONE;
          return i;
        default:
          return i - 1; // already done: the byte belongs to whatever follows
      }
    }
    return i;
  }

  private fail(message: string): number {
    this.error = message;
    return -1;
  }
}
