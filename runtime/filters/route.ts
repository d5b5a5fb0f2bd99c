// The route filter: finds the virtual host for the request's authority and its first matching
// route in the listener's route config, and puts it on the exchange for the filters after it
// (fault) and the router. The route table is read once per request: a reload mid-request changes
// nothing for it. A host no virtual host serves takes the route config's unknownHost route when it
// has one (a sidecar's outbound traffic policy: block_all or allow_any); else, and when no route of
// the virtual host matches: 404 NR. A service whose endpoints the registry fetches on first use
// (Kubernetes, large clusters) holds its first request until they are listed (bounded), once,
// then the route is looked up again in the table that holds them.
import { findVirtualHost, type Route, type RouteConfig, type RouteTable, type TableRef, type Target, type VirtualHost } from "../model/route-table.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { authorityHost } from "../model/hosts.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Exchange, Filter, FilterResult } from "./chain.ts";

export function routeFilter(table: TableRef, select: (table: RouteTable) => RouteConfig | undefined): Filter {
  // the last authority's virtual host, per route config: most requests on a listener name the host
  // the one before named, and comparing the authority is cheaper than lowercasing, splitting off
  // the port and hashing it for the lookup (1.5 % of a mesh pair's profile). A reload is a new
  // route config, so it never sees an answer from the old one.
  let lastRoutes: RouteConfig | undefined;
  let lastAuthority = "";
  let lastHost: VirtualHost | undefined;
  function virtualHost(routes: RouteConfig, authority: string): VirtualHost | undefined {
    if (routes === lastRoutes && authority === lastAuthority) return lastHost;
    const found = findVirtualHost(routes, authorityHost(authority));
    lastRoutes = routes;
    lastAuthority = authority;
    lastHost = found;
    return found;
  }
  return function route(exchange: Exchange, wait = true): FilterResult | Promise<FilterResult> {
    const routes = select(table.current);
    const vhost = routes && virtualHost(routes, exchange.facts.authority);
    const chosen = vhost ? firstMatch(vhost.routes, exchange.facts) : routes?.unknownHost?.(exchange.facts);
    if (!chosen) return localReply(new ProxyError("no-route"), exchange.record);
    const listing = chosen.action.kind === "forward" ? inUse(chosen.action.targets) : undefined;
    if (listing && wait) return listing.then(() => route(exchange, false));
    exchange.route = chosen;
    exchange.record.routeName = chosen.name;
    return undefined;
  };
}

/** the first route whose match the request meets (a loop: no closure per request, as find's would be) */
function firstMatch(routes: readonly Route[], facts: RequestFacts): Route | undefined {
  for (let i = 0; i < routes.length; i++) if (routes[i].matches(facts)) return routes[i];
  return undefined;
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
