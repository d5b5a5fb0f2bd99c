// Where a listener hands a request to its chain, and where the answer leaves: the request record
// is made here, the chain runs, an unexpected throw becomes a 500, and the response flags header
// is rendered once from the record (an upstream's own flags header is dropped: its flags are not
// this hop's). Then the observer (metrics, access log, spans) reads the record.
import type { ConnInfo } from "../platform/types.ts";
import type { DataHandler, HttpRequest } from "../exchange/types.ts";
import { RequestRecord } from "../exchange/record.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { ProxyError } from "../exchange/errors.ts";
import { FLAGS_HEADER, localReply } from "../exchange/local-reply.ts";
import type { Observer } from "../telemetry/observe.ts";
import type { Chain, Exchange } from "./chain.ts";
import type { HttpResponse } from "../exchange/types.ts";
import { withHeaders } from "../exchange/response.ts";
import { hasChecked } from "../exchange/header-list.ts";

export interface EdgeOptions {
  chain: Chain;
  /** the facts the chain starts from */
  facts(request: HttpRequest, conn: ConnInfo): RequestFacts;
  observer?: Observer;
  /** an unexpected throw (a 500) is logged at "error" */
  log(message: string, level?: "warn" | "error"): void;
  now?: () => number;
}

/** the flags header says what this hop did, and only that */
function renderFlags(response: HttpResponse, record: RequestRecord): HttpResponse {
  const flags = record.flagText;
  const headers = response.headers;
  if (!flags && !hasChecked(headers, FLAGS_HEADER)) return response;
  try {
    if (flags) headers.set(FLAGS_HEADER, flags);
    else headers.delete(FLAGS_HEADER);
    return response;
  } catch {
    // immutable headers (a fetch Response): a copy
    const copy = new Headers(headers);
    if (flags) copy.set(FLAGS_HEADER, flags);
    else copy.delete(FLAGS_HEADER);
    return withHeaders(response, copy);
  }
}

export function edgeHandler(options: EdgeOptions): DataHandler {
  const { chain, observer, log } = options;
  const now = options.now ?? Date.now;

  function failed(error: unknown, record: RequestRecord): HttpResponse {
    if (error instanceof ProxyError) return localReply(error, record);
    log(`internal error: ${(error as Error)?.stack ?? error}`, "error");
    return localReply(new ProxyError("internal"), record);
  }

  function finish(exchange: Exchange, response: HttpResponse): HttpResponse {
    const out = renderFlags(response, exchange.record);
    const { facts } = exchange;
    observer?.observe(exchange.request, facts.query ? `${facts.path}?${facts.query}` : facts.path, exchange.conn, exchange.record, out, exchange.record.startMs);
    return out;
  }

  return function edge(request, conn) {
    const record = new RequestRecord(now());
    let exchange: Exchange;
    let result: HttpResponse | Promise<HttpResponse>;
    try {
      exchange = { request, conn, facts: options.facts(request, conn), record };
      result = chain(exchange);
    } catch (error) {
      const response = failed(error, record);
      exchange ??= { request, conn, facts: { method: request.method, scheme: "http", authority: "", path: "/", query: "", headers: request.headers, port: 0 }, record };
      return finish(exchange, response);
    }
    if (!(result instanceof Promise)) return finish(exchange, result);
    return result.then(
      (response) => finish(exchange, response),
      (error) => finish(exchange, failed(error, record)),
    );
  };
}
