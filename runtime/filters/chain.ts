// One filter chain per listener, built once: a list of small filters and a terminal step (the
// router, or the inbound side's forward to the app). A filter reads and changes the exchange and
// either lets it go on (returns undefined) or answers it (returns a response — a local reply).
// Filters that need not wait return synchronously, and then the chain awaits nothing for them.
// Inbound, outbound and gateway are three lists of the same filters (filters/chains.ts); a new
// policy is one module with one factory plus one entry in a list.
import type { ConnInfo } from "../platform/types.ts";
import type { HttpRequest, HttpResponse } from "../exchange/types.ts";
import type { RequestRecord } from "../exchange/record.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import type { Route } from "../model/route-table.ts";
import type { JWTPayload } from "jose";

/** One request on its way through a chain. */
export interface Exchange {
  /** a filter may replace it with one carrying another body (the gRPC-Web filter's decoded text) */
  request: HttpRequest;
  readonly conn: ConnInfo;
  /** what matchers and policies read; filters may replace headers, path and query */
  readonly facts: RequestFacts;
  readonly record: RequestRecord;
  /** the route chosen for this request, once the route filter has run */
  route?: Route;
  /** what the JWT filter established, for the authorization filter */
  authn?: { principal?: string; claims?: JWTPayload };
}

export type FilterResult = HttpResponse | undefined;
export type Filter = (exchange: Exchange) => FilterResult | Promise<FilterResult>;
export type Terminal = (exchange: Exchange) => HttpResponse | Promise<HttpResponse>;
export type Chain = (exchange: Exchange) => HttpResponse | Promise<HttpResponse>;

/** the filters in order, then the terminal step */
export function compileChain(filters: readonly Filter[], terminal: Terminal): Chain {
  const list = filters.slice();
  const count = list.length;
  async function resume(exchange: Exchange, from: number, pending: Promise<FilterResult>): Promise<HttpResponse> {
    const answered = await pending;
    if (answered) return answered;
    for (let i = from; i < count; i++) {
      const result = await list[i](exchange);
      if (result) return result;
    }
    return terminal(exchange);
  }
  return function chain(exchange) {
    for (let i = 0; i < count; i++) {
      const result = list[i](exchange);
      if (result === undefined) continue;
      if (!(result instanceof Promise)) return result;
      return resume(exchange, i + 1, result);
    }
    return terminal(exchange);
  };
}
