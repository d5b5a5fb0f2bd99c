// Compiles one VirtualService http route into a Route: its matcher (null when the route does not
// apply to this proxy), and its action — forward with weighted targets, or a redirect / direct
// response built per request.
import type { HTTPRoute, HTTPRouteDestination, VirtualService } from "../config/types.ts";
import type { Cluster, ForwardAction, Mirror, Route, RouteAction, Target } from "./route-table.ts";
import { compileMatches, type ProxySelector } from "../routing/match.ts";
import { compileWeighted } from "../routing/weighted.ts";
import { compileHeaderOps } from "../routing/header-ops.ts";
import { compileRewrite } from "../routing/rewrite.ts";
import { compileRedirect } from "../routing/redirect.ts";
import { compileDirectResponse } from "../routing/direct-response.ts";
import { expandHost } from "./hosts.ts";

export interface RouteContext {
  random: () => number;
  clusters(host: string, port: number | undefined, subset: string | undefined): Cluster;
  forwardTo(cluster: Cluster): ForwardAction;
}

function target(vs: VirtualService, d: HTTPRouteDestination, ctx: RouteContext): Target {
  const host = expandHost(d.destination.host, vs.metadata.namespace);
  return {
    cluster: ctx.clusters(host, d.destination.port?.number, d.destination.subset),
    requestHeaders: compileHeaderOps(d.headers?.request),
    responseHeaders: compileHeaderOps(d.headers?.response),
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

function action(vs: VirtualService, http: HTTPRoute, ctx: RouteContext): RouteAction | undefined {
  const responseHeaders = compileHeaderOps(http.headers?.response);
  if (http.redirect) return { kind: "respond", respond: compileRedirect(http.redirect), responseHeaders };
  if (http.directResponse) return { kind: "respond", respond: compileDirectResponse(http.directResponse), responseHeaders };
  if (!http.route?.length) return undefined;
  const targets = http.route.map((d) => target(vs, d, ctx));
  const weights = http.route.map((d) => d.weight);
  const pickIndex = compileWeighted(weights, ctx.random);
  const forward: ForwardAction = {
    kind: "forward",
    pick: targets.length === 1 ? () => targets[0] : () => targets[pickIndex()],
    targets,
    rewrite: http.rewrite ? compileRewrite(http.rewrite, http.match) : undefined,
    timeoutMs: http.timeout || undefined,
    retries: http.retries,
    fault: http.fault,
    requestHeaders: compileHeaderOps(http.headers?.request),
    responseHeaders,
    mirrors: mirrors(vs, http, ctx),
  };
  return forward;
}

export function compileHttpRoute(
  vs: VirtualService,
  http: HTTPRoute,
  index: number,
  selector: ProxySelector,
  ctx: RouteContext,
): Route | null {
  const matches = compileMatches(http.match, selector);
  if (!matches) return null;
  const routeAction = action(vs, http, ctx);
  if (!routeAction) return null;
  const name = http.name ?? `${vs.metadata.namespace}/${vs.metadata.name}#${index}`;
  return { name, matches, action: routeAction, catchAll: !http.match?.length };
}
