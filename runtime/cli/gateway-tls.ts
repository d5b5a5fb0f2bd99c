// Which gateway ports terminate TLS, and with what: the HTTPS servers (tls.mode SIMPLE, MUTUAL,
// OPTIONAL_MUTUAL, ISTIO_MUTUAL; config validation refuses the rest) of the Gateways that select
// this proxy, grouped by port. A port serves HTTPS or plaintext HTTP, not both: a port where both
// are declared is served as HTTPS and the plaintext servers' hosts are refused with a log line, as
// Envoy cannot tell them apart on one listener without TLS inspection either. HTTPS servers with
// tls.mode PASSTHROUGH are not here: their bytes are routed by SNI (gateway-tcp.ts), and a port
// cannot mix them with terminated servers (config/l4-honesty.ts refuses it).
import { gatewaysFor, type ProxyIdentity } from "../model/compile.ts";
import { isPassthroughServer } from "../model/compile-tcp.ts";
import type { MeshConfig } from "../config/types.ts";
import { TLS_VERSIONS, type GatewayTlsMode, type TlsServerConfig } from "../security/server-certificates.ts";
import { serverTlsUnsupported } from "../platform/mesh-listener.ts";
import type { ConfigError } from "../config/errors.ts";

interface HttpsTls {
  mode: GatewayTlsMode;
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: string[];
  verifyCertificateSpki?: string[];
  verifyCertificateHash?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: string[];
}

/** port → its HTTPS servers' TLS, in the order the Gateways declare them */
export function httpsServersByPort(config: MeshConfig, proxy: ProxyIdentity): Map<number, TlsServerConfig[]> {
  const out = new Map<number, TlsServerConfig[]>();
  for (const gateway of gatewaysFor(config, proxy)) {
    for (const server of gateway.spec.servers) {
      if (server.port.protocol.toUpperCase() !== "HTTPS" || !server.tls) continue;
      if (isPassthroughServer(server)) continue; // not terminated: a byte-stream port (gateway-tcp.ts)
      const tls = server.tls as unknown as HttpsTls;
      const list = out.get(server.port.number) ?? [];
      const entry: TlsServerConfig = {
        hosts: server.hosts.map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h)),
        mode: tls.mode,
        serverCertificate: tls.serverCertificate,
        privateKey: tls.privateKey,
        caCertificates: tls.caCertificates,
        credentialName: tls.credentialName,
        subjectAltNames: tls.subjectAltNames,
        verifyCertificateSpki: tls.verifyCertificateSpki,
        verifyCertificateHash: tls.verifyCertificateHash,
        minProtocolVersion: tls.minProtocolVersion,
        maxProtocolVersion: tls.maxProtocolVersion,
        cipherSuites: tls.cipherSuites,
      };
      // undefined fields out, so the listener key below only changes with the config
      list.push(Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as unknown as TlsServerConfig);
      out.set(server.port.number, list);
    }
  }
  return out;
}

/** a stable key for a port's TLS config: a listener is rebuilt only when it changes */
export function tlsConfigKey(servers: readonly TlsServerConfig[] | undefined): string {
  return servers ? JSON.stringify(servers) : "";
}

const FIELDS = { minVersion: "minProtocolVersion", maxVersion: "maxProtocolVersion", ciphers: "cipherSuites" } as const;

/**
 * The HTTPS servers' TLS settings this runtime cannot serve exactly (Deno: TLS 1.0/1.1, cipher
 * lists), as load errors: refused with file, resource and field, never served differently.
 */
export function gatewayTlsErrors(config: MeshConfig, proxy: ProxyIdentity): ConfigError[] {
  const out: ConfigError[] = [];
  for (const gateway of gatewaysFor(config, proxy)) {
    gateway.spec.servers.forEach((server, i) => {
      if (server.port.protocol.toUpperCase() !== "HTTPS" || !server.tls || isPassthroughServer(server)) return;
      const tls = server.tls as unknown as HttpsTls;
      const unsupported = serverTlsUnsupported({
        minVersion: tls.minProtocolVersion && TLS_VERSIONS[tls.minProtocolVersion],
        maxVersion: tls.maxProtocolVersion && TLS_VERSIONS[tls.maxProtocolVersion],
        ciphers: tls.cipherSuites?.length ? tls.cipherSuites.join(":") : undefined,
      });
      for (const { field, reason } of unsupported) {
        out.push({
          code: "schema", severity: "error", file: gateway.origin.file, document: gateway.origin.document, kind: gateway.kind, name: gateway.metadata.name, namespace: gateway.metadata.namespace,
          path: `spec.servers[${i}].tls.${FIELDS[field]}`,
          message: reason,
        });
      }
    });
  }
  return out;
}
