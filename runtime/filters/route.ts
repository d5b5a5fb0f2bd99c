// The route filter: finds the virtual host for the request's authority and its first matching
// route in the listener's route config, and puts it on the exchange for the filters after it
// (fault) and the router. The route table is read once per request: a reload mid-request changes
// nothing for it. A host no virtual host serves takes the route config's unknownHost route when it
// has one (a sidecar's outbound traffic policy: block_all or allow_any); else, and when no route of
// the virtual host matches: 404 NR. A service whose endpoints the registry fetches on first use
// (Kubernetes, large clusters) holds its first request until they are listed (bounded), once,
// then the route is looked up again in the table that holds them.
import { findVirtualHost, type RouteConfig, type RouteTable, type TableRef, type Target } from "../model/route-table.ts";
import { authorityHost } from "../model/hosts.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Exchange, Filter, FilterResult } from "./chain.ts";

export function routeFilter(table: TableRef, select: (table: RouteTable) => RouteConfig | undefined): Filter {
  return function route(exchange: Exchange, wait = true): FilterResult | Promise<FilterResult> {
    const routes = select(table.current);
    const vhost = routes && findVirtualHost(routes, authorityHost(exchange.facts.authority));
    const chosen = vhost ? vhost.routes.find((r) => r.matches(exchange.facts)) : routes?.unknownHost?.(exchange.facts);
    if (!chosen) return localReply(new ProxyError("no-route"), exchange.record);
    const listing = chosen.action.kind === "forward" ? inUse(chosen.action.targets) : undefined;
    if (listing && wait) return listing.then(() => route(exchange, false));
    exchange.route = chosen;
    exchange.record.routeName = chosen.name;
    return undefined;
  };
}

/** tells the registry these services are used; what their first endpoint lists are, if running */
function inUse(targets: readonly Target[]): Promise<unknown> | undefined {
  let waits: Promise<void>[] | undefined;
  for (const { cluster } of targets) {
    const listing = cluster.service.use?.();
    if (listing) (waits ??= []).push(listing);
  }
  return waits && (waits.length === 1 ? waits[0] : Promise.all(waits));
}
