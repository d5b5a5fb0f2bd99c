// The last step of an inbound chain when the app is in this process (the library's mesh.serve and
// mesh.listen): the request, as the filters left it (normalized target, XFCC, claim headers), is
// handed to the app's own fetch-style handler instead of being sent over a socket. A handler that
// throws is answered 500, as an app that fails before answering would be.
import { ProxyError } from "../exchange/errors.ts";
import { downstreamResponse } from "../exchange/headers.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Exchange, Terminal } from "./chain.ts";
import type { HttpResponse } from "../exchange/types.ts";

/** what the in-process app learns about the caller, beside the request */
export interface CallerInfo {
  remoteAddress: string;
  /** the caller's SPIFFE ID, when it came over mTLS */
  principal?: string;
  /** the request object the inbound side was handed (before its filters), for adapters that must find their own context */
  received: unknown;
}

export type AppHandler = (request: Request, caller: CallerInfo) => Response | Promise<Response>;

export function toHandlerTerminal(app: AppHandler, log: (message: string) => void): Terminal {
  return async function toHandler(exchange: Exchange): Promise<HttpResponse> {
    const { facts, record, conn } = exchange;
    const target = facts.query ? `${facts.path}?${facts.query}` : facts.path;
    const hasBody = facts.method !== "GET" && facts.method !== "HEAD" && exchange.request.body !== null;
    try {
      const request = new Request(`http://${facts.authority}${target}`, {
        method: facts.method,
        headers: facts.headers,
        body: hasBody ? exchange.request.body : null,
        // @ts-ignore: needed for a streamed request body, not yet in every lib.dom
        duplex: "half",
      });
      const response = await app(request, { remoteAddress: conn.remoteAddress, principal: conn.peer?.uris[0], received: (exchange.request as { received?: unknown }).received ?? exchange.request });
      record.details = "via_upstream";
      return downstreamResponse(response);
    } catch (error) {
      log(`in-process app failed: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal", (error as Error)?.message), record);
    }
  };
}
