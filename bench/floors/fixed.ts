// What the floor servers share: the fixed response (the bench upstream's exact bytes, so the bench's
// body check passes and every floor writes what the upstream writes) and request-head counting.
export const body = "hello from the dietmesh bench upstream\n";

/** the whole HTTP/1.1 response, head and body, as bytes written per request */
export function fixedResponse(): Uint8Array {
  return new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
}

/**
 * Counts the request heads (CRLFCRLF) that end in `chunk`. `matched` is how many bytes of a CRLFCRLF
 * the previous read ended with, so a terminator split across reads still counts; the new value is
 * returned for the next read. A byte scan, no decoding: the floor should spend nothing it need not.
 * Bodies are not expected (the bench sends GETs only).
 */
export function countHeads(matched: number, chunk: Uint8Array): { count: number; matched: number } {
  let count = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === (matched & 1 ? 10 : 13)) { // CR at 0 and 2, LF at 1 and 3
      if (++matched === 4) { count++; matched = 0; }
    } else matched = b === 13 ? 1 : 0;
  }
  return { count, matched };
}
