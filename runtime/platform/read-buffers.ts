// Read buffers handed on, and taken back once what was read into them has been written out.
//
// Why: a transport that reads into a buffer of its own must copy every read out of it, and a body
// streamed through the proxy then makes one new array per read. On Deno each is a 16 KiB calloc
// that glibc keeps resident after V8 frees it: a 1 GiB body read at 2 GiB/s held 1.6-1.8 x the
// gateway's idle RSS (issue 15 item 12). When the read is large, the transport hands the buffer
// itself on (lent) and reads into a fresh one; when that very array has been written to a socket,
// the writing transport returns its buffer here, and the next large read reuses it. A streamed
// body then cycles through a handful of buffers: 1.04-1.07 x (docs/performance.md).
//
// The rule that keeps this safe: a lent array is reused only if it reaches a writer as the same
// object it left the transport as, and nothing else holds it after the write. Whatever takes part
// of it (subarray, slice) makes a new object, which is never reused, so a parser that keeps bytes
// past a body is safe by construction. Code that keeps a body chunk after passing it on, or gives
// one chunk to two consumers, must call keep(chunk) first: the retry replay buffer
// (resilience/body-replay.ts) and mirroring's tee (router/mirror.ts). Only the proxy's own
// processes turn this on (cli/sidecar.ts, cli/gateway.ts): in the in-process library, response
// chunks reach the application, which may keep them.

/** the size of every transport read buffer (Deno's: deno-transport.ts) */
export const READ_SIZE = 16 * 1024;
/** a read this large is handed on in its buffer; a smaller one is copied out (small requests keep their small arrays) */
export const LEND_AT = 8 * 1024;
/** buffers waiting for a read: beyond this many, a returned buffer is left to the collector */
export const MAX_FREE = 64;

const free: ArrayBuffer[] = [];
const lent = new WeakSet<Uint8Array>();
let enabled = false;
let reused = 0;

/** turns lending on or off for this process (the proxy's processes turn it on) */
export function lendReads(on: boolean): void {
  enabled = on;
  if (!on) free.length = 0;
}

/** a buffer to read into: a returned one when there is one */
export function readBuffer(): Uint8Array {
  const buffer = free.pop();
  if (buffer === undefined) return new Uint8Array(READ_SIZE);
  reused++;
  return new Uint8Array(buffer);
}

/**
 * What a transport delivers for n bytes read into buffer: the buffer's own view when lending is on
 * and the read is large (the transport must then read into a new readBuffer()), else a copy.
 */
export function delivered(buffer: Uint8Array, n: number): Uint8Array {
  if (!enabled || n < LEND_AT) return buffer.slice(0, n);
  const chunk = buffer.subarray(0, n);
  lent.add(chunk);
  return chunk;
}

/** true when delivered() handed the buffer itself on */
export function isLent(chunk: Uint8Array): boolean {
  return lent.has(chunk);
}

/** the caller keeps chunk (or gives it to more than one consumer): its buffer is never reused */
export function keep(chunk: Uint8Array): void {
  lent.delete(chunk);
}

/** a transport wrote chunk out completely: if it was lent, its buffer can be read into again */
export function written(chunk: Uint8Array): void {
  if (!lent.delete(chunk)) return;
  if (enabled && free.length < MAX_FREE && chunk.buffer.byteLength === READ_SIZE) free.push(chunk.buffer as ArrayBuffer);
}

/** how many reads reused a returned buffer so far (tests check that streaming recycles) */
export function buffersReused(): number {
  return reused;
}
