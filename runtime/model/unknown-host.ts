// What a sidecar's outbound listener does with a host it does not know (no virtual host matched),
// by the outbound traffic policy in force (Istio's catch-all virtual hosts of the outbound routes):
//   REGISTRY_ONLY: Istio's "block_all" route, a direct response 502 with an empty body
//     (response code details "direct_response", no response flag, as Envoy logs it);
//   ALLOW_ANY: Istio's "allow_any" route to PassthroughCluster: the call goes to the host and
//     port it names, resolved by name (dietmesh has no original destination address to keep: the
//     app calls its outbound listener itself), with the default retry policy and no timeout;
//   undefined (neither a Sidecar nor --outbound-traffic-policy says): 404 NR, dietmesh's own.
// Passthrough clusters are built per host:port on first use and kept (bounded) with the table.
import type { Cluster, Route, RouteAction } from "./route-table.ts";
import type { RequestFacts } from "../routing/request-facts.ts";
import type { Service } from "./types.ts";
import type { OutboundTrafficPolicy } from "./sidecar-scope.ts";
import { buildCluster } from "./clusters.ts";
import { authorityHost } from "./hosts.ts";

export const PASSTHROUGH_CLUSTER = "PassthroughCluster";
/** passthrough host:port pairs one table keeps; the least recently used goes first */
const PASSTHROUGH_LIMIT = 256;

const blockAll: Route = {
  name: "block_all",
  matches: () => true,
  catchAll: true,
  action: { kind: "respond", respond: () => new Response(null, { status: 502 }) },
};

/** the route for a request whose host no virtual host serves, or undefined (404 NR) */
export function unknownHostRoute(
  policy: OutboundTrafficPolicy | undefined,
  forwardTo: (cluster: Cluster) => RouteAction,
  random: () => number,
): ((facts: RequestFacts) => Route) | undefined {
  if (policy === undefined) return undefined;
  if (policy === "REGISTRY_ONLY") return () => blockAll;
  const routes = new Map<string, Route>();
  return (facts) => {
    const host = authorityHost(facts.authority);
    const key = `${host}:${facts.port}`;
    let route = routes.get(key);
    if (route) routes.delete(key); // re-inserted: the Map's order is the LRU order
    else route = { name: "allow_any", matches: () => true, catchAll: true, action: forwardTo(passthroughCluster(host, facts.port, random)) };
    routes.set(key, route);
    if (routes.size > PASSTHROUGH_LIMIT) routes.delete(routes.keys().next().value!);
    return route;
  };
}

/** one endpoint, the named host and port; metrics name the service "PassthroughCluster" as Istio's do */
function passthroughCluster(host: string, port: number, random: () => number): Cluster {
  const address = host.startsWith("[") ? host.slice(1, -1) : host;
  const service: Service = {
    hostname: PASSTHROUGH_CLUSTER,
    namespace: "",
    ports: [{ name: "http", number: port, protocol: "HTTP" }],
    endpoints: [{ address, ports: { http: port }, labels: {}, ready: true }],
    location: "MESH_EXTERNAL",
    resolution: "DNS",
    source: "passthrough",
  };
  const cluster = buildCluster(service, service.ports[0], undefined, undefined, random);
  // one name for every passthrough target, as Envoy's; the pool keys connections by address
  return { ...cluster, name: PASSTHROUGH_CLUSTER };
}
