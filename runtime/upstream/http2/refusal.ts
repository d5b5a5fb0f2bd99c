// Config honesty for HTTP/2 upstreams: h2c and h2 inside the mesh's mTLS are built; HTTP/2 over TLS
// origination (DestinationRule SIMPLE/MUTUAL to a server outside the mesh) is not. Such a host is
// refused with a reason rather than reached over HTTP/1.1 or over plaintext: the request fails as
// a connection failure (503 UF, or UNAVAILABLE for a gRPC client) and the reason is logged once
// per address, at warn.
import type { TlsTarget } from "../http1/index.ts";

export function refuseTlsForHttp2(tlsFor: (hostname: string, port: number) => TlsTarget | null, protocol: string, warn: (message: string) => void) {
  const told = new Set<string>();
  return (hostname: string, port: number): string | undefined => {
    const tls = tlsFor(hostname, port);
    if (!tls?.origination) return undefined;
    const reason = `${hostname}:${port} is a ${protocol} port reached over TLS origination: HTTP/2 over TLS origination is not built yet (refused rather than sent as HTTP/1.1)`;
    if (!told.has(`${hostname}:${port}`)) {
      told.add(`${hostname}:${port}`);
      warn(reason);
    }
    return reason;
  };
}
