// The HTTP/2 client connection preface (RFC 9113 §3.4), by which an HTTP/1.1 listener tells a
// client speaking h2c with prior knowledge from an HTTP/1.1 one, as Envoy's AUTO codec does. Its
// first line reads as an HTTP/1.1 request line with method PRI, which no HTTP/1.1 server serves.

export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export const NOT_PREFACE = 0;
export const IS_PREFACE = 1;
/** every byte so far matches: wait for more */
export const PREFACE_SO_FAR = 2;

/** whether bytes (a connection's first) start with the preface */
export function prefaceMatch(bytes: Uint8Array): number {
  const n = Math.min(bytes.byteLength, PREFACE.byteLength);
  for (let i = 0; i < n; i++) if (bytes[i] !== PREFACE[i]) return NOT_PREFACE;
  return n === PREFACE.byteLength ? IS_PREFACE : PREFACE_SO_FAR;
}
