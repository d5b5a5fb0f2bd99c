// The field names a proxy sees on nearly every message, as one shared string each. The head
// parsers take a name from here when the line's name is one of them instead of slicing it out of
// the head: on JSC a slice is a new string that is only made real at its first read, and the name
// of every line of every head was such a string (~5 % of a mesh pair's JavaScript in a CPU
// profile). A shared literal also compares by identity wherever the data path looks a name up
// (HeaderList, the hop-by-hop and framing checks).
const COMMON = [
  "host", "user-agent", "accept", "accept-encoding", "accept-language", "authorization", "cookie", "origin", "referer",
  "content-type", "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "expect",
  "date", "server", "set-cookie", "cache-control", "etag", "last-modified", "location", "vary",
  "x-forwarded-for", "x-forwarded-proto", "x-forwarded-client-cert", "x-request-id",
  "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
  "x-envoy-attempt-count", "x-dietmesh-peer-metadata", "x-dietmesh-attempts", "x-dietmesh-response-flags",
  "grpc-status", "grpc-message", "grpc-timeout",
];

/** "content-length" → "Content-Length": how most servers and clients write a name */
function capitalised(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** the names by length, so a lookup compares against the few of the same length only: as bytes, for the request parser, which reads a head's bytes */
const BYTES_BY_LENGTH: { name: string; bytes: Uint8Array }[][] = [];
/** the same as indexes into WRITTEN below (each name, then its capitalised form) */
const WRITTEN_BY_LENGTH: number[][] = [];
COMMON.forEach((name, i) => {
  (BYTES_BY_LENGTH[name.length] ??= []).push({ name, bytes: Uint8Array.from(name, (c) => c.charCodeAt(0)) });
  (WRITTEN_BY_LENGTH[name.length] ??= []).push(2 * i, 2 * i + 1);
});

/**
 * The shared lowercase string for the name bytes[start, end) when it is a common one, compared with
 * letters folded (and only letters: "content\rlength" is not "content-length"); else undefined.
 * For the request parser, which lowercases every name; it reads the bytes, where a byte is a load
 * and a string's character a call.
 */
export function commonNameIn(bytes: Uint8Array, start: number, end: number): string | undefined {
  const candidates = BYTES_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  next: for (let k = 0; k < candidates.length; k++) {
    const lower = candidates[k].bytes;
    for (let i = 0; i < lower.length; i++) {
      let c = bytes[start + i];
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== lower[i]) continue next;
    }
    return candidates[k].name;
  }
  return undefined;
}

/**
 * Whether text from start on spells lower (a lowercase name) in any letter case. Only letters fold:
 * a byte that differs from a non-letter by 0x20 (CR against "-") must not match.
 */
export function sameNameFolded(text: string, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = text.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** every common name as written (lowercase, then capitalised), and at the same index its lowercase form */
export const WRITTEN: readonly string[] = COMMON.flatMap((name) => [name, capitalised(name)]);
export const LOWER: readonly string[] = COMMON.flatMap((name) => [name, name]);

/**
 * Where the name text[start, end) is in WRITTEN when it is a common one written exactly so, in
 * lowercase or capitalised ("Content-Length"), else -1. For the response parser, which keeps names
 * as they came (WRITTEN) and hands the header list their lowercase form (LOWER).
 */
export function writtenName(text: string, start: number, end: number): number {
  const candidates = WRITTEN_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  next: for (let k = 0; k < candidates.length; k++) {
    const name = WRITTEN[candidates[k]];
    for (let i = 0; i < name.length; i++) if (text.charCodeAt(start + i) !== name.charCodeAt(i)) continue next;
    return candidates[k];
  }
  return -1;
}
