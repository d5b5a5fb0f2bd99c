// Which gateway ports speak HTTP/2 with prior knowledge (h2c): those where a Gateway selecting this
// proxy declares a server with protocol HTTP2 or GRPC. Such a port takes HTTP/2 only, as declared:
// an HTTP/1.1 client there fails at once instead of being served something else (a plain HTTP port
// takes both, h2c told apart by the connection preface: exchange/listener.ts). A port that also has an HTTPS
// server stays HTTPS (gateway-tls.ts), and config validation refuses tls settings on GRPC servers.
import { gatewaysFor, type ProxyIdentity } from "../model/compile.ts";
import type { MeshConfig } from "../config/types.ts";
import { speaksHttp2 } from "../upstream/http2/index.ts";

export function h2cPorts(config: MeshConfig, proxy: ProxyIdentity): Set<number> {
  const ports = new Set<number>();
  for (const gateway of gatewaysFor(config, proxy)) {
    for (const server of gateway.spec.servers) if (speaksHttp2(server.port.protocol)) ports.add(server.port.number);
  }
  return ports;
}
