// The three chains, one list each, built once per listener: what an outbound, a gateway and an
// inbound (sidecar → app) request go through. Adding a policy is one module in this folder plus
// one entry in the lists below.
import type { RouteConfig, RouteTable, TableRef } from "../model/route-table.ts";
import type { AuthzDecision, WorkloadSecurity } from "../security/policy/index.ts";
import type { PipelineDeps } from "../router/pipeline-deps.ts";
import type { ConnInfo } from "../platform/types.ts";
import type { DataHandler, HttpRequest } from "../exchange/types.ts";
import { factsFromRequest, type RequestFacts } from "../routing/request-facts.ts";
import { upstreamRequestHeaders } from "../exchange/headers.ts";
import { targetOf } from "../upstream/http1/client.ts";
import type { Observer } from "../telemetry/observe.ts";
import { createRouter } from "../router/router.ts";
import { compileChain, type Filter, type Terminal } from "./chain.ts";
import { edgeHandler } from "./edge.ts";
import { faultFilter } from "./fault.ts";
import { hostCheckFilter } from "./host-check.ts";
import { upgradeFilter } from "./upgrade.ts";
import { connectFilter, connectRefusedFilter } from "./connect.ts";
import { jwtAuthnFilter } from "./jwt-authn.ts";
import { rbacFilter } from "./rbac.ts";
import { requestChecksFilter } from "./request-checks.ts";
import { routeFilter } from "./route.ts";
import { toAppTerminal } from "./to-app.ts";
import { xfccFilter } from "./xfcc.ts";
import { answerPeerMetadata, peerMetadataFilter } from "./peer-metadata.ts";
import { corsFilter } from "./cors.ts";
import { inboundTraceFilter } from "./inbound-trace.ts";
import { grpcWebFilter } from "./grpc-web.ts";

export interface RoutedListenerOptions {
  table: TableRef;
  /** which of the table's route configs this listener serves */
  select: (table: RouteTable) => RouteConfig | undefined;
  /** the port the route matches see (the gateway server port, or the request's destination port) */
  port: number | ((authority: string) => number);
  deps: PipelineDeps;
  /** extra filters before routing, in order (tests add their own) */
  filters?: readonly Filter[];
}

function routedFacts(port: RoutedListenerOptions["port"]) {
  const portOf = typeof port === "number" ? () => port : port;
  return (request: HttpRequest): RequestFacts => {
    const facts = factsFromRequest(request, 0);
    facts.port = portOf(facts.authority);
    return facts;
  };
}

/** what follows the route filter on a routed listener: CORS around fault → router (cors.ts says why it wraps) */
function afterRoute(deps: PipelineDeps): Terminal {
  return corsFilter(compileChain([faultFilter(deps.clock)], createRouter(deps)));
}

/** a sidecar's outbound listener: host check → upgrade → CONNECT → route → CORS → fault → router */
export function outboundHandler(options: RoutedListenerOptions): DataHandler {
  const { deps } = options;
  const filters: Filter[] = [hostCheckFilter(), upgradeFilter(), connectFilter(options.table, options.select), ...(options.filters ?? []), routeFilter(options.table, options.select)];
  return edgeHandler({ chain: compileChain(filters, afterRoute(deps)), facts: routedFacts(options.port), observer: deps.observer, log: deps.log });
}

export interface GatewayListenerOptions extends RoutedListenerOptions {
  port: number;
  /** the policies selecting the gateway, now (recompiled on config swaps) */
  security: () => WorkloadSecurity | undefined;
  onDecision?: (decision: AuthzDecision) => void;
  /** a Gateway server on this port says GRPC-WEB: gRPC-Web is translated (grpc-web.ts) */
  grpcWeb?: boolean;
}

/** a gateway server port: host check → upgrade → CONNECT refused → request checks → JWT → RBAC (where policies select the gateway) → [gRPC-Web] → route → CORS → fault → router */
export function gatewayHandler(options: GatewayListenerOptions): DataHandler {
  const { deps, security } = options;
  const route = routeFilter(options.table, options.select);
  const filters: Filter[] = [
    hostCheckFilter(),
    upgradeFilter(),
    connectRefusedFilter(),
    ...(options.filters ?? []),
    requestChecksFilter(security, false),
    jwtAuthnFilter(security),
    rbacFilter(security, options.port, options.onDecision),
  ];
  // where Istio puts Envoy's filter: after authentication and authorization, before routing
  const chain = options.grpcWeb ? compileChain(filters, grpcWebFilter(compileChain([route], afterRoute(deps)))) : compileChain([...filters, route], afterRoute(deps));
  return edgeHandler({ chain, facts: routedFacts(options.port), observer: deps.observer, log: deps.log });
}

export interface InboundListenerOptions {
  /** the app's address, host:port */
  app: string;
  deps: PipelineDeps;
  observer?: Observer;
  /** this workload's SPIFFE ID (XFCC's By), when it has one */
  localId?: () => string;
  /** the policies in force now (recompiled on every config swap) */
  security: () => WorkloadSecurity | undefined;
  /** the app's port: destination.port for authorization */
  appPort: number;
  onDecision?: (decision: AuthzDecision) => void;
  filters?: readonly Filter[];
  /** instead of forwarding to `app` over a socket: an in-process app (the library, to-handler.ts) */
  terminal?: Terminal;
}

/** a sidecar's inbound listener: trace → host check → upgrade → CONNECT refused → XFCC → peer metadata → request checks → JWT → RBAC → the app */
export function inboundHandler(options: InboundListenerOptions): DataHandler {
  const { deps, security } = options;
  const filters: Filter[] = [
    // first, so a request answered locally (400, 403) still has its server span, as in Envoy; only
    // where spans are exported (with no tracing backend, as Envoy with no tracer, the app's trace
    // headers pass as they came, and no request pays the check: ~3 % of a mesh pair's JavaScript)
    ...(deps.tracer && options.observer?.exportsSpans ? [inboundTraceFilter(deps.tracer)] : []),
    // the sniffing mesh listener hands two Host headers on joined: a DENY on either must not be passed
    hostCheckFilter(),
    upgradeFilter(),
    connectRefusedFilter(),
    ...(options.filters ?? []),
    xfccFilter(options.localId),
    peerMetadataFilter(),
    requestChecksFilter(security, true),
    jwtAuthnFilter(security),
    rbacFilter(security, options.appPort, options.onDecision),
  ];
  // the target as received (a listener passes it in request.rawTarget; a Request's URL is
  // normalized), and the headers as they will go to the app
  const facts = (request: HttpRequest, conn: ConnInfo): RequestFacts => {
    const target = request.rawTarget ?? targetOf(request.url); // only a request that came without its raw target
    const q = target.indexOf("?");
    const headers = upstreamRequestHeaders(request.headers, { remoteAddress: conn.remoteAddress, scheme: "http" }, deps.newRequestId, request.upgrade);
    return {
      method: request.method,
      scheme: conn.secure ? "https" : "http",
      authority: headers.get("host") ?? "",
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? "" : target.slice(q + 1),
      headers,
      port: options.appPort,
    };
  };
  const terminal = answerPeerMetadata(options.terminal ?? toAppTerminal(options.app, deps), deps.peerMetadata);
  return edgeHandler({ chain: compileChain(filters, terminal), facts, observer: options.observer, log: deps.log });
}
