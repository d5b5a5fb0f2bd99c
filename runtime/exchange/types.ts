// What travels through the data plane: a request as the listeners hand it to the filter chain, and
// the response that comes back. A Web Request and a Web Response satisfy them (the runtimes'
// servers, fetch, the in-process library), and so do what dietmesh's own servers and clients make
// without building Web objects. Only the own types can carry what the Web ones cannot: a 101 with
// the upgraded byte stream, and trailers (HTTP/2's trailing HEADERS, HTTP/1.1's chunked trailer
// section — gRPC's status lives there).
import type { ConnInfo } from "../platform/types.ts";

export interface HttpRequest {
  readonly method: string;
  /** "http://authority/path?query", the path normalized as a WHATWG URL parser would */
  readonly url: string;
  /**
   * The url's scheme and its "/path?query", when the listener has them apart (dietmesh's own
   * HTTP/1.1 server): the route facts are taken from these, and the url is then built only if
   * something asks for it. Both or neither.
   */
  readonly scheme?: string;
  readonly target?: string;
  /**
   * The request-target exactly as it came, in origin form ("/a/../b?x" unnormalized; a CONNECT's
   * "host:port"), where the listener has it (dietmesh's own HTTP/1.1 server): what an inbound
   * sidecar routes and forwards, and where a CONNECT goes. A Web Request's URL is normalized.
   */
  readonly rawTarget?: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  /** the trailers after the body, settled once the body has ended; absent when the protocol has none */
  readonly trailers?: Promise<Headers | undefined>;
  /** "h1", "h2": how it arrived (absent: h1); the router keeps it or translates */
  readonly protocol?: string;
  /** the Upgrade header of a request that asks to switch protocols (Connection: upgrade), as sent */
  readonly upgrade?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  /** the trailers after the body, settled once the body has ended */
  readonly trailers?: Promise<Headers | undefined>;
  /** a 101 (or a 2xx to CONNECT): the upstream's side of the byte stream that follows */
  readonly upgrade?: ByteChannel;
}

/**
 * One side of a raw byte stream: an upgraded connection after its 101, a CONNECT tunnel, a TCP
 * connection. Callback-driven like the transports under it, so two channels are spliced without a
 * Web stream or a promise per chunk (exchange/splice.ts).
 */
export interface ByteChannel {
  /** starts delivery to sink, bytes already read past the HTTP head first */
  attach(sink: ByteSink): void;
  /** false: wait for sink.onDrain before writing more */
  write(bytes: Uint8Array): boolean;
  pause(): void;
  resume(): void;
  /** half-close: FIN after anything queued */
  end(): void;
  destroy(): void;
}

export interface ByteSink {
  onData(bytes: Uint8Array): void;
  onDrain(): void;
  /** the peer closed (error null) or the connection failed; called once */
  onClose(error: Error | null): void;
}

export type DataHandler = (request: HttpRequest, conn: ConnInfo) => HttpResponse | Promise<HttpResponse>;
