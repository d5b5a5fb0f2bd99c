// An HTTP/1.1 listener: the platform's native sockets (plaintext, or TLS with client
// certificates on Bun) with dietmesh's own HTTP/1.1 server on every connection. stop() drains as
// the runtimes' servers do: no new connections, idle ones closed at once, busy ones after their
// current response.
import { platform, type Server } from "../../platform/index.ts";
import type { SocketServeOptions } from "../../platform/types.ts";
import { Http1ServerConnection, type Http1ServerOptions } from "./server.ts";

export interface Http1ListenOptions extends Omit<Http1ServerOptions, "lifecycle" | "scheme"> {
  hostname: string;
  port: number;
  tls?: SocketServeOptions["tls"];
  verifyPeer?: SocketServeOptions["verifyPeer"];
  onRefused?: SocketServeOptions["onRefused"];
  reusePort?: boolean;
}

export function listenHttp1(options: Http1ListenOptions): Server {
  const open = new Set<Http1ServerConnection>();
  let allClosed: (() => void) | null = null;
  const lifecycle = {
    draining: false,
    closed(conn: Http1ServerConnection) {
      open.delete(conn);
      if (open.size === 0) allClosed?.();
    },
  };
  const server: Http1ServerOptions = {
    handler: options.handler,
    onError: options.onError,
    badRequest: options.badRequest,
    limits: options.limits,
    scheme: options.tls ? "https" : "http",
    lifecycle,
  };
  const sockets = platform.serveSockets({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
    verifyPeer: options.verifyPeer,
    onRefused: options.onRefused,
    reusePort: options.reusePort,
    onConnection(socket, conn) {
      const connection = new Http1ServerConnection(socket, conn, server);
      open.add(connection);
      return connection;
    },
  });
  return {
    hostname: sockets.hostname,
    port: sockets.port,
    async stop(force = false) {
      lifecycle.draining = true;
      await sockets.stop(force);
      for (const conn of [...open]) if (force || conn.idle) conn.close(!force);
      if (open.size === 0) return;
      await new Promise<void>((resolve) => (allClosed = resolve));
    },
  };
}
