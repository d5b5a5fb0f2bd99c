// Listeners. Data listeners (outbound, inbound, gateway ports) and the CA API run dietmesh's own
// HTTP/1.1 server on the runtime's native sockets (listenData, listenHttp1Mesh); the admin and
// status APIs, which route with Hono and are off the request path, keep the runtime's own server (listen).
import { platform, type FetchHandler, type Server } from "../platform/index.ts";
import type { DataHandler } from "./types.ts";
import { listenHttp1, listenHttp1Mesh, type Http1ListenOptions, type Http1MeshListenOptions } from "./http1/listen.ts";
import type { HeadError } from "./http1/request-head.ts";
import { localReply } from "./local-reply.ts";
import { ProxyError } from "./errors.ts";

export { parseListenAddress, type ListenAddress } from "./listen-address.ts";
import type { ListenAddress } from "./listen-address.ts";

/** the process log; an error that became a 500 is logged at "error" */
type Log = (message: string, level?: "warn" | "error") => void;

export function listen(address: ListenAddress, handler: FetchHandler, log: Log): Server {
  return platform.serve({
    hostname: address.hostname,
    port: address.port,
    handler,
    onError(error) {
      log(`listener ${address.hostname}:${address.port}: ${(error as Error)?.stack ?? error}`, "error");
      return localReply(new ProxyError("internal"));
    },
  });
}

/** the local reply for a request the HTTP/1.1 parser refused: its status, flag DPE */
export function badRequestReply(error: HeadError): Response {
  return localReply(new ProxyError("bad-request", error.details, error.status));
}

/**
 * a data listener: the handler on dietmesh's own HTTP/1.1 server (TLS options for an mTLS-only
 * port); a plaintext one also serves h2c clients, told apart by the HTTP/2 preface as Envoy's AUTO
 * codec does (h2c: false turns that off)
 */
export function listenData(
  address: ListenAddress,
  handler: DataHandler,
  log: Log,
  extra: Pick<Http1ListenOptions, "tls" | "verifyPeer" | "onRefused" | "reusePort" | "limits" | "h2c"> = {},
): Server {
  return listenHttp1({ hostname: address.hostname, port: address.port, handler, h2c: !extra.tls, ...extra, ...replies(address, log) });
}

/** a data listener that takes plaintext and mTLS on one port (the sniffing mesh listener) */
export function listenMeshData(
  address: ListenAddress,
  handler: DataHandler,
  log: Log,
  mesh: Pick<Http1MeshListenOptions, "credentials" | "accept" | "verifyPeer" | "onRefused" | "reusePort" | "limits" | "serverTls">,
): Promise<Server> {
  return listenHttp1Mesh({ hostname: address.hostname, port: address.port, handler, ...mesh, ...replies(address, log) });
}

function replies(address: ListenAddress, log: Log) {
  return {
    onError(error: unknown) {
      log(`listener ${address.hostname}:${address.port}: ${(error as Error)?.stack ?? error}`, "error");
      return localReply(new ProxyError("internal"));
    },
    badRequest: badRequestReply,
  };
}
