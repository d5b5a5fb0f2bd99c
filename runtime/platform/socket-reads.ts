// Pausing and resuming what a node:net or node:tls socket reads, so that pausing pushes back on
// the peer on every runtime.
//
// Deno 2.9's node:tls (ext/node's TLSWrap) stops only *delivering* when a TLS socket pauses: the
// TCP handle under it keeps reading, decrypting into a buffer with no bound (its read_stop says so
// as a known limitation). A client uploading faster than the upstream reads then piles the whole
// body into the proxy: up to 2 GB for 1 GiB (docs/performance.md, bench/memory/tls-backpressure.ts).
// So a pause here also stops that TCP handle, which Deno's tls_wrap.ts keeps on the TLS handle as
// `_nativeTcpHandle`. On Bun and for plain sockets there is no such handle, and this is just
// pause()/resume(). The property is Deno's internal, so test/platform/tls-read-pause.test.ts
// watches the bytes read off the wire: a Deno that renames it fails there, not in production.
import type { Socket } from "node:net";

interface NativeReads {
  readStart(): number;
  readStop(): number;
}

function tcpUnderTls(socket: Socket): NativeReads | undefined {
  const native = (socket as unknown as { _handle?: { _nativeTcpHandle?: Partial<NativeReads> } })._handle?._nativeTcpHandle;
  return typeof native?.readStop === "function" && typeof native.readStart === "function" ? (native as NativeReads) : undefined;
}

export function pauseReads(socket: Socket): void {
  socket.pause();
  tcpUnderTls(socket)?.readStop();
}

export function resumeReads(socket: Socket): void {
  socket.resume();
  // a closed or ended socket's handle must not start reading again
  if (!socket.destroyed && socket.readable) tcpUnderTls(socket)?.readStart();
}
