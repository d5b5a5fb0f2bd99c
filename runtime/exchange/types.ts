// What travels through the data plane: a request as the listeners hand it to the filter chain.
// A Web Request satisfies it (the runtimes' servers, the in-process library), and so does what
// dietmesh's own HTTP/1.1 server makes (exchange/http1/server.ts) without building a Request.
import type { ConnInfo } from "../platform/types.ts";

export interface HttpRequest {
  readonly method: string;
  /** "http://authority/path?query", the path normalized as a WHATWG URL parser would */
  readonly url: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
}

export type DataHandler = (request: HttpRequest, conn: ConnInfo) => Response | Promise<Response>;
