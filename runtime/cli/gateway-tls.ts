// Which gateway ports terminate TLS, and with what: the HTTPS servers (tls.mode SIMPLE; config
// validation refuses every other mode until it is built) of the Gateways that select this proxy,
// grouped by port. A port serves HTTPS or plaintext HTTP, not both: a port where both are declared
// is served as HTTPS and the plaintext servers' hosts are refused with a log line, as Envoy cannot
// tell them apart on one listener without TLS inspection either.
import { gatewaysFor, type ProxyIdentity } from "../model/compile.ts";
import type { MeshConfig } from "../config/types.ts";
import type { TlsServerConfig } from "../security/server-certificates.ts";

/** port → its HTTPS servers' TLS, in the order the Gateways declare them */
export function httpsServersByPort(config: MeshConfig, proxy: ProxyIdentity): Map<number, TlsServerConfig[]> {
  const out = new Map<number, TlsServerConfig[]>();
  for (const gateway of gatewaysFor(config, proxy)) {
    for (const server of gateway.spec.servers) {
      if (server.port.protocol.toUpperCase() !== "HTTPS" || !server.tls) continue;
      const tls = server.tls as { serverCertificate: string; privateKey: string; minProtocolVersion?: string; maxProtocolVersion?: string; cipherSuites?: string[] };
      const list = out.get(server.port.number) ?? [];
      list.push({
        hosts: server.hosts.map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h)),
        serverCertificate: tls.serverCertificate,
        privateKey: tls.privateKey,
        minProtocolVersion: tls.minProtocolVersion,
        maxProtocolVersion: tls.maxProtocolVersion,
        cipherSuites: tls.cipherSuites,
      });
      out.set(server.port.number, list);
    }
  }
  return out;
}

/** a stable key for a port's TLS config: a listener is rebuilt only when it changes */
export function tlsConfigKey(servers: readonly TlsServerConfig[] | undefined): string {
  return servers ? JSON.stringify(servers) : "";
}
