// The fetch the adapter talks to the API server with. Plain http, and https verified by the
// runtime's own trust store, use the global fetch. A cluster CA, client certificates or
// insecure-skip-tls-verify need TLS settings fetch does not take the same way on Bun and Deno:
// they go through a hook (TlsFetchFactory) that the proxies fill with runtime/platform/tls-fetch.ts.
// Without one (a caller that gives none), client certificates are refused with a clear message
// and a CA is left to the runtime's trust store (NODE_EXTRA_CA_CERTS on Bun, DENO_CERT on Deno).
import { KubeConfigError, type KubeConnection } from "./options.ts";

export interface KubeTls {
  ca?: string;
  cert?: string;
  key?: string;
  insecureSkipVerify?: boolean;
  serverName?: string;
}

export type KubeFetch = (url: string, init: RequestInit) => Promise<Response>;

/** the platform hook: a fetch that verifies the server with `ca` and presents `cert`/`key` */
export type TlsFetchFactory = (tls: KubeTls) => KubeFetch;

export function kubeFetch(connection: KubeConnection, factory: TlsFetchFactory | undefined, log?: (message: string) => void): KubeFetch {
  const plain: KubeFetch = (url, init) => fetch(url, init);
  if (!connection.server.startsWith("https:")) return plain;
  const tls: KubeTls = {
    ca: connection.ca, cert: connection.clientCert, key: connection.clientKey,
    insecureSkipVerify: connection.insecureSkipTlsVerify, serverName: connection.tlsServerName,
  };
  if (!tls.ca && !tls.cert && !tls.insecureSkipVerify) return plain;
  if (factory) return factory(tls);
  if (tls.cert) {
    throw new KubeConfigError(`kubernetes: ${connection.origin} uses a client certificate, which needs a TLS fetch (the proxies pass runtime/platform/tls-fetch.ts); or use a bearer token (kubectl create token <service-account>)`);
  }
  if (tls.insecureSkipVerify) {
    throw new KubeConfigError(`kubernetes: ${connection.origin} sets insecure-skip-tls-verify, which needs a TLS fetch (the proxies pass runtime/platform/tls-fetch.ts)`);
  }
  log?.(`kubernetes: the cluster CA of ${connection.origin} is not handed to fetch without a TLS fetch; the runtime's trust store must hold it (NODE_EXTRA_CA_CERTS on Bun, DENO_CERT on Deno)`);
  return plain;
}
