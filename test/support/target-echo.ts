// An app for end-to-end tests of what a sidecar forwards: it answers with JSON holding the request
// target exactly as it arrived on the request line (not a URL a runtime has already cleaned up) and
// the headers. Served by the mesh listener in plaintext-only mode, the one listener that hands a
// handler the raw target.
import type { Server } from "../../runtime/platform/index.ts";
import { listenHttp1Mesh } from "../../runtime/exchange/http1/listen.ts";

export interface TargetEcho {
  server: Server;
  address: string;
}

export interface EchoedRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
}

export async function startTargetEcho(): Promise<TargetEcho> {
  const server = await listenHttp1Mesh({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => null,
    accept: () => ({ plaintext: true, tls: false, clientCertificate: false }),
    handler(request, conn) {
      const seen: EchoedRequest = { method: request.method, target: request.rawTarget ?? "", headers: Object.fromEntries(request.headers) };
      return new Response(JSON.stringify(seen), { headers: { "content-type": "application/json" } });
    },
  });
  return { server, address: `127.0.0.1:${server.port}` };
}
