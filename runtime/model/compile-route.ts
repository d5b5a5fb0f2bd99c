// Compiles one VirtualService http route into a Route: its matcher (null when the route does not
// apply to this proxy), and its action — forward with weighted targets, or a redirect / direct
// response built per request — and its corsPolicy.
import type { HTTPRoute, HTTPRouteDestination, VirtualService } from "../config/types.ts";
import type { Cluster, ForwardAction, Mirror, Route, RouteAction, Target } from "./route-table.ts";
import { compileMatchBlocks, compileMatches, type ProxySelector } from "../routing/match.ts";
import { compileWeighted } from "../routing/weighted.ts";
import { compileHeaderOps } from "../routing/header-ops.ts";
import { compileRewrite, rewriteAuthority } from "../routing/rewrite.ts";
import type { HTTPMatchRequest } from "../config/types.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import { compileRedirect } from "../routing/redirect.ts";
import { compileDirectResponse } from "../routing/direct-response.ts";
import { expandHost } from "./hosts.ts";
import { compileFault } from "../resilience/fault.ts";
import { compileRetryPolicy } from "../resilience/retry-policy.ts";
import { compileCorsPolicy } from "../routing/cors-policy.ts";

export interface RouteContext {
  random: () => number;
  clusters(host: string, port: number | undefined, subset: string | undefined): Cluster;
  forwardTo(cluster: Cluster): ForwardAction;
}

/** route- and destination-level header ops compile together: all removes, then route, then destination writes */
function target(vs: VirtualService, http: HTTPRoute, d: HTTPRouteDestination, ctx: RouteContext): Target {
  const host = expandHost(d.destination.host, vs.metadata.namespace);
  return {
    cluster: ctx.clusters(host, d.destination.port?.number, d.destination.subset),
    requestHeaders: compileHeaderOps(http.headers?.request, d.headers?.request),
    responseHeaders: compileHeaderOps(http.headers?.response, d.headers?.response),
  };
}

function mirrors(vs: VirtualService, http: HTTPRoute, ctx: RouteContext): Mirror[] {
  const out: Mirror[] = [];
  const cluster = (d: { host: string; port?: { number?: number }; subset?: string }) =>
    ctx.clusters(expandHost(d.host, vs.metadata.namespace), d.port?.number, d.subset);
  // mirrorPercentage absent means every request is mirrored
  if (http.mirror) out.push({ cluster: cluster(http.mirror), percent: http.mirrorPercentage?.value ?? 100 });
  for (const m of http.mirrors ?? []) out.push({ cluster: cluster(m.destination), percent: m.percentage?.value ?? 100 });
  return out;
}

function action(vs: VirtualService, http: HTTPRoute, block: HTTPMatchRequest | undefined, ctx: RouteContext): RouteAction | undefined {
  const responseHeaders = compileHeaderOps(http.headers?.response);
  if (http.redirect) return { kind: "respond", respond: compileRedirect(http.redirect), responseHeaders };
  if (http.directResponse) return { kind: "respond", respond: compileDirectResponse(http.directResponse), responseHeaders };
  if (!http.route?.length) return undefined;
  // loops, not callbacks: a callback naming ctx would put ctx in this scope, which the pick closure
  // below keeps for as long as the route lives — and ctx leads to the whole registry snapshot
  const targets: Target[] = [];
  const weights: (number | undefined)[] = [];
  for (const d of http.route) {
    targets.push(target(vs, http, d, ctx));
    weights.push(d.weight);
  }
  const pickIndex = compileWeighted(weights, ctx.random);
  const forward: ForwardAction = {
    kind: "forward",
    pick: targets.length === 1 ? () => targets[0] : () => targets[pickIndex()],
    targets,
    rewrite: compileRouteRewrite(http, block),
    timeoutMs: http.timeout || undefined,
    retry: compileRetryPolicy(http.retries, http.timeout || undefined),
    fault: compileFault(http.fault, ctx.random),
    mirrors: mirrors(vs, http, ctx),
  };
  return forward;
}

const withQuery = (f: RequestFacts) => (f.query ? `${f.path}?${f.query}` : f.path);

function compileRouteRewrite(http: HTTPRoute, block: HTTPMatchRequest | undefined): ForwardAction["rewrite"] {
  const path = compileRewrite(http.rewrite, block);
  const authority = rewriteAuthority(http.rewrite, http.headers);
  if (!path && !authority) return undefined;
  return (f) => ({ path: path ? path(f) : withQuery(f), authority: authority ?? f.authority });
}

/**
 * One http route → its Routes for this proxy (none when it does not apply here). A uri rewrite
 * depends on which match block selected the request, so such a route becomes one Route per
 * block, as Envoy builds it; otherwise the blocks share one Route.
 */
export function compileHttpRoute(
  vs: VirtualService,
  http: HTTPRoute,
  index: number,
  selector: ProxySelector,
  ctx: RouteContext,
): Route[] {
  const name = http.name ?? `${vs.metadata.namespace}/${vs.metadata.name}#${index}`;
  const catchAll = !http.match?.length;
  const cors = compileCorsPolicy(http.corsPolicy);
  if (http.rewrite?.uri && http.match && http.match.length > 1) {
    const compiled = compileMatchBlocks(http.match, selector);
    if (!compiled) return [];
    const routes: Route[] = [];
    for (const block of compiled.blocks) {
      const matches = compileMatches([block], selector);
      const routeAction = action(vs, http, block, ctx);
      if (matches && routeAction) routes.push({ name, matches, action: routeAction, catchAll, cors });
    }
    return routes;
  }
  const matches = compileMatches(http.match, selector);
  const routeAction = matches && action(vs, http, http.match?.[0], ctx);
  return matches && routeAction ? [{ name, matches, action: routeAction, catchAll, cors }] : [];
}
