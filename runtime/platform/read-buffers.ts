// Read buffers handed on, and given back once what was read into them has been written out.
//
// Why: a streamed body makes one new array per read, and the runtimes free them late (V8 at its
// next scavenge, Bun when its heuristics say so; read-garbage.ts forces collections as the RSS
// grows). On Deno each was a 16 KiB calloc, the copy the transport made out of its own read buffer,
// that glibc kept resident: a 1 GiB body read at 2 GiB/s held 1.6-1.8 x the gateway's idle RSS
// (issue 15 item 12). So the arrays a transport reads are handed on as "lent", and when that very
// array has been written out by a transport, its memory is given back at once: a buffer of this
// module's (Deno's transport reads into them) goes to the next large read; an array the runtime
// made for the read (Bun's sockets, node:net and node:tls) is detached with transfer(0), which
// frees its memory there and then, without a collection. A streamed body then holds a handful of
// buffers: 1.06-1.08 x on Deno (docs/performance.md, "Read buffers handed on").
//
// The rule that keeps this safe: an array is given back only if it reaches a writer as the same
// object it left the transport as, and nothing else holds it after the write. Whatever takes part
// of it (subarray, slice) makes a new object, which is never given back, so a parser that keeps
// bytes past a body is safe by construction. Code that keeps a body chunk after passing it on, or
// gives one chunk to two consumers, must call keep(chunk) first: the retry replay buffer
// (resilience/body-replay.ts) and mirroring's tee (router/mirror.ts). A holder the rule missed
// would see a detached array or a reused buffer, so test/e2e/stream-integrity.test.ts compares
// every byte of concurrent streams through both. Only the proxy's own processes turn this on
// (cli/sidecar.ts, cli/gateway.ts): in the in-process library, response chunks reach the
// application, which may keep them.

/** the size of every transport read buffer (Deno's: deno-transport.ts) */
export const READ_SIZE = 16 * 1024;
/** a read this large is lent; a smaller one is copied out of a read buffer, or left to the collector (small requests keep their small arrays) */
export const LEND_AT = 8 * 1024;
/** buffers waiting for a read: beyond this many, a returned buffer's memory is freed */
export const MAX_FREE = 64;

const free: ArrayBuffer[] = [];
/** the buffers readBuffer() made: these are reused, every other lent array's memory is freed */
const pooled = new WeakSet<ArrayBuffer>();
const lent = new WeakSet<Uint8Array>();
let enabled = false;
let reused = 0;
let freed = 0;

/** turns lending on or off for this process (the proxy's processes turn it on) */
export function lendReads(on: boolean): void {
  enabled = on;
  if (!on) free.length = 0;
}

/** a buffer to read into: a returned one when there is one */
export function readBuffer(): Uint8Array {
  const buffer = free.pop();
  if (buffer === undefined) {
    const fresh = new Uint8Array(READ_SIZE);
    if (enabled) pooled.add(fresh.buffer);
    return fresh;
  }
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

/**
 * A transport hands on an array the runtime made for this read (Bun's sockets, node:net, node:tls):
 * lent when large and alone in its ArrayBuffer, so that its memory can be freed once written.
 */
export function handedOn(chunk: Uint8Array): Uint8Array {
  if (enabled && chunk.byteLength >= LEND_AT && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) lent.add(chunk);
  return chunk;
}

/** true when delivered() or handedOn() lent the array */
export function isLent(chunk: Uint8Array): boolean {
  return lent.has(chunk);
}

/** the caller keeps chunk (or gives it to more than one consumer): its buffer is never reused or freed */
export function keep(chunk: Uint8Array): void {
  lent.delete(chunk);
}

/**
 * A transport wrote chunk out completely (the runtime holds none of it any more): if it was lent,
 * its buffer is read into again, or its memory freed now.
 */
export function written(chunk: Uint8Array): void {
  // nothing smaller than LEND_AT is ever lent: a small write (every head) skips the set's lookup
  if (chunk.byteLength < LEND_AT || !lent.delete(chunk)) return;
  const buffer = chunk.buffer as ArrayBuffer;
  if (pooled.has(buffer) && free.length < MAX_FREE) return void free.push(buffer);
  (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0); // detached: its memory goes now, not at the next collection (ES2024; both runtimes)
  freed++;
}

/** how many reads reused a returned buffer so far (tests check that streaming recycles) */
export function buffersReused(): number {
  return reused;
}

/** how many written arrays had their memory freed at once */
export function arraysFreed(): number {
  return freed;
}
