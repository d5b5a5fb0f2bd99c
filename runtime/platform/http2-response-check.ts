// What an HTTP/2 upstream's answer is when it is no valid response, in Envoy's terms: a protocol
// error (502 UPE, upstream_reset_before_response_started{protocol_error}) rather than a reset
// (503 UC). Envoy's codec judges the header block itself; here the runtime's node:http2 does part
// of it and reports it in its own way, so the rest is checked on the head it hands over:
//  - Bun resets the stream with PROTOCOL_ERROR (a repeated pseudo-header, an upper-case name) or
//    closes the session with "Protocol error" (a header block HPACK cannot decode); it hands over a
//    head without :status and a content-length that the stream's end contradicts.
//  - Deno closes the stream with CANCEL and no error event for every one of these.
// A stream the upstream itself resets with PROTOCOL_ERROR or COMPRESSION_ERROR cannot be told from
// Bun's own reset (same code, same error), so it is a protocol error too; Envoy names that one
// remote_reset (503 UR). Other reset codes stay resets.

const PROTOCOL_ERROR = 0x1;
const INTERNAL_ERROR = 0x2;
const CANCEL = 0x8;
const COMPRESSION_ERROR = 0x9;
const ON_DENO = "Deno" in globalThis;

/**
 * true when a stream closed before its response head (not by our own cancel) was a protocol error.
 * sessionProtocolError: the session failed with the runtime's "Protocol error" (Bun: INTERNAL_ERROR on the stream).
 */
export function closedByProtocolError(rstCode: number | undefined, sessionProtocolError: boolean): boolean {
  if (rstCode === PROTOCOL_ERROR || rstCode === COMPRESSION_ERROR) return true;
  if (rstCode === INTERNAL_ERROR && sessionProtocolError) return true;
  // Deno's node:http2 answers every malformed response with CANCEL and no error (a peer's own
  // CANCEL before the head is indistinguishable there, and as rare as it is unhelpful)
  return ON_DENO && rstCode === CANCEL;
}

/** why a response head is no valid HTTP/2 response, or undefined (RFC 9113 §8.1.1, §8.3.2) */
export function headProblem(head: Record<string, unknown>, endedWithHead: boolean, requestMethod: string): string | undefined {
  const status = head[":status"];
  if (typeof status !== "string" && typeof status !== "number") return status === undefined ? "response head without :status" : "response head with :status repeated";
  const code = Number(status);
  if (!Number.isInteger(code) || code < 200 || code > 599) return `response :status ${String(status)} is not a final status`;
  if (endedWithHead && requestMethod !== "HEAD" && code !== 304) {
    const length = head["content-length"];
    if (length !== undefined && Number(length) !== 0) return `response ended with its head but content-length is ${String(length)}`;
  }
  return undefined;
}

/** the declared content-length of a body that must match it, or undefined (HEAD, 304, none or unparsable) */
export function declaredLength(head: Record<string, unknown>, requestMethod: string): number | undefined {
  const length = head["content-length"];
  if (length === undefined || requestMethod === "HEAD" || Number(head[":status"]) === 304) return undefined;
  const n = Number(length);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
