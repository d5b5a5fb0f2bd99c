// The routing core of the outbound and gateway listeners as a plain fetch handler:
// route lookup by host, first matching route, then respond or forward. It reads the route table
// reference once per request, so a reload mid-request changes nothing for that request.
import type { RouteConfig, RouteTable, TableRef } from "../model/route-table.ts";
import { findVirtualHost } from "../model/route-table.ts";
import { authorityHost } from "../model/hosts.ts";
import { factsFromRequest, type RequestFacts } from "../routing/request-facts.ts";
import type { ConnInfo, FetchHandler } from "../platform/index.ts";
import { ProxyError } from "./errors.ts";
import { forward } from "./forward.ts";
import { localReply } from "./local-reply.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { RequestRecord } from "./observe.ts";

export interface RouteHandlerOptions {
  table: TableRef;
  /** which of the table's route configs this listener serves */
  select: (table: RouteTable) => RouteConfig | undefined;
  /** the port the route matches see (the gateway server port, or the request's destination port) */
  port: number | ((authority: string) => number);
  deps: PipelineDeps;
  /**
   * Runs before routing (the gateway's RequestAuthentication and AuthorizationPolicy): a Response
   * ends the request; otherwise it may have replaced facts.headers, path and query.
   */
  guard?: (request: Request, facts: RequestFacts, conn: ConnInfo) => Promise<Response | undefined> | undefined;
}

export function createRouteHandler(options: RouteHandlerOptions): FetchHandler {
  const { table, select, deps } = options;
  const portOf = typeof options.port === "number" ? () => options.port as number : options.port;

  async function route(request: Request, conn: ConnInfo, facts: RequestFacts, record: RequestRecord): Promise<Response> {
    const routes = select(table.current);
    if (!routes) throw new ProxyError("no-route");
    const vhost = findVirtualHost(routes, authorityHost(facts.authority));
    if (!vhost) throw new ProxyError("no-route");
    const chosen = vhost.routes.find((r) => r.matches(facts));
    if (!chosen) throw new ProxyError("no-route");
    record.routeName = chosen.name;
    const action = chosen.action;
    if (action.kind === "respond") {
      const response = action.respond(facts);
      action.responseHeaders?.(response.headers);
      return response;
    }
    return forward(action, request, facts, conn, deps, record);
  }

  return async function routeHandler(request, conn) {
    const start = Date.now();
    const facts = factsFromRequest(request, 0);
    facts.port = portOf(facts.authority);
    const record: RequestRecord = {};
    let response: Response;
    try {
      // HTTP/1.1 requires Host; Envoy answers a request without one 400 (Bun's server already does)
      if (!facts.headers.has("host")) throw new ProxyError("bad-request", "missing Host header");
      const guarding = options.guard?.(request, facts, conn);
      const refused = guarding ? await guarding : undefined;
      response = refused ?? (await route(request, conn, facts, record));
    } catch (error) {
      if (error instanceof ProxyError) response = localReply(error);
      else {
        deps.log(`internal error: ${(error as Error)?.stack ?? error}`);
        response = localReply(new ProxyError("internal"));
      }
    }
    deps.observer?.observe(request, facts.query ? `${facts.path}?${facts.query}` : facts.path, conn, record, response, start);
    return response;
  };
}
