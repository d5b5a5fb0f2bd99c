// dietmesh's HTTP/2 upstream client: a per-cluster pool of h2c sessions (pool.ts) on the runtime's
// node:http2 (runtime/platform/http2-connect.ts), for clusters whose port speaks HTTP/2.
export { createHttp2Pool, type H2Connect, type H2PoolOptions } from "./pool.ts";

// Istio's protocol.IsHTTP2: a GRPC-WEB port's cluster speaks HTTP/2 too (the gRPC-Web filter of a
// gateway hands it gRPC)
const HTTP2_PROTOCOLS = new Set(["HTTP2", "GRPC", "GRPC-WEB"]);

/** a service port declared HTTP2, GRPC or GRPC-WEB (Kubernetes appProtocol http2, grpc, grpc-web, kubernetes.io/h2c included) */
export function speaksHttp2(protocol: string): boolean {
  return HTTP2_PROTOCOLS.has(protocol.toUpperCase());
}
