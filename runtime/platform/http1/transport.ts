// The socket layer the HTTP/1.1 client sits on: one byte stream to one upstream, callback-driven so
// a connection object can be its own handler (no closures per request). Each runtime has one
// implementation (bun-transport.ts, deno-transport.ts); tests may inject their own Connect.

/** What a transport reports; the connection object implements it. */
export interface TransportHandler {
  /** the TCP handshake completed */
  onOpen(): void;
  /**
   * Bytes arrived; the array is the handler's to keep, with one exception: with lending on
   * (read-buffers.ts, the proxy's processes) a transport that has written this very array out
   * reads into its buffer again, so code that keeps it after writing it, or writes it to two
   * places, calls keep() first.
   */
  onData(chunk: Uint8Array): void;
  /** everything queued by write() has gone to the kernel */
  onDrain(): void;
  /**
   * The connection is gone: closed by the peer (error null) or failed. Called exactly once, also
   * when the connect itself failed (before onOpen) and after end() once the peer has closed too;
   * never after destroy().
   */
  onClose(error: Error | null): void;
}

export interface Transport {
  /** queues bytes in order; false when the caller should wait for onDrain before writing more; tells read-buffers.ts written() once data is out */
  write(data: Uint8Array): boolean;
  /** stop reading from the socket (backpressure); data already read may still arrive */
  pause(): void;
  resume(): void;
  /** whether the socket keeps the process alive; idle pooled connections do not */
  ref(on: boolean): void;
  /** half-close (FIN after anything queued) and keep reading until the peer closes: onClose */
  end(): void;
  /** close at once, dropping anything queued; no handler calls follow */
  destroy(): void;
}

/** Opens a connection to host:port (host without brackets) and reports to handler. */
export type Connect = (host: string, port: number, handler: TransportHandler) => Transport;

/** Most bytes a transport queues before write() says "wait for drain". */
export const WRITE_HIGH_WATER = 64 * 1024;
