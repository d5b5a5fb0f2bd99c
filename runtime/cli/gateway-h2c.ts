// Which gateway ports speak HTTP/2 with prior knowledge (h2c): those where a Gateway selecting this
// proxy declares a server with protocol HTTP2 or GRPC. Such a port takes HTTP/2 only, as declared:
// an HTTP/1.1 client there fails at once instead of being served something else (a plain HTTP port
// takes both, h2c told apart by the connection preface: exchange/listener.ts). A port that also has an HTTPS
// server stays HTTPS (gateway-tls.ts), and config validation refuses tls settings on GRPC servers.
import { gatewaysFor, type ProxyIdentity } from "../model/compile.ts";
import type { MeshConfig } from "../config/types.ts";
import { speaksHttp2 } from "../upstream/http2/index.ts";

export function h2cPorts(config: MeshConfig, proxy: ProxyIdentity): Set<number> {
  return portsWhere(config, proxy, (protocol) => protocol !== "GRPC-WEB" && speaksHttp2(protocol));
}

/**
 * The ports where a Gateway selecting this proxy declares a server GRPC-WEB: their chains translate
 * gRPC-Web (filters/grpc-web.ts). They take HTTP/1.1 and h2c both, as a plain HTTP port does:
 * browsers call them over HTTP/1.1.
 */
export function grpcWebPorts(config: MeshConfig, proxy: ProxyIdentity): Set<number> {
  return portsWhere(config, proxy, (protocol) => protocol === "GRPC-WEB");
}

function portsWhere(config: MeshConfig, proxy: ProxyIdentity, test: (protocol: string) => boolean): Set<number> {
  const ports = new Set<number>();
  for (const gateway of gatewaysFor(config, proxy)) {
    for (const server of gateway.spec.servers) if (test(server.port.protocol.toUpperCase())) ports.add(server.port.number);
  }
  return ports;
}
