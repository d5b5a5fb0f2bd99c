// An HTTP/1.1 listener: dietmesh's own HTTP/1.1 server on every connection of the platform's
// native sockets (plaintext, or TLS with client certificates on Bun: listenHttp1), or of the
// sniffing mesh listener (plaintext and mTLS on one port: listenHttp1Mesh). stop() drains as the
// runtimes' servers do: no new connections, idle ones closed at once, busy ones after their
// current response. With h2c, plaintext connections that open with the HTTP/2 preface are served
// as HTTP/2 by the same handler (Envoy's AUTO codec), held to the same head limits (as HTTP/2
// holds them: ../http2/listen.ts); they drain with GOAWAY.
import { platform, serveMesh, type Acceptance, type MeshServeOptions, type Server, type TlsCredentials } from "../../platform/index.ts";
import type { ConnInfo, SocketServeOptions, SocketServer } from "../../platform/types.ts";
import type { Transport } from "../../platform/http1/transport.ts";
import { Http1ServerConnection, type Http1ServerOptions } from "./server.ts";
import { DEFAULT_HEAD_LIMITS } from "./request-head.ts";
import { http2Handoff } from "../../platform/index.ts";
import { streamHandler } from "../http2/listen.ts";

export interface Http1ListenOptions extends Omit<Http1ServerOptions, "lifecycle" | "scheme" | "onError" | "badRequest"> {
  /** default: a bare 500 */
  onError?: Http1ServerOptions["onError"];
  /** default: the parser's status with its details as the body */
  badRequest?: Http1ServerOptions["badRequest"];
  hostname: string;
  port: number;
  tls?: SocketServeOptions["tls"];
  verifyPeer?: SocketServeOptions["verifyPeer"];
  onRefused?: SocketServeOptions["onRefused"];
  reusePort?: boolean;
  /** also serve h2c with prior knowledge on plaintext connections (detected by the preface) */
  h2c?: boolean;
}

export interface Http1MeshListenOptions extends Omit<Http1ListenOptions, "tls"> {
  /** TLS or plaintext per connection, as accept() says when it opens */
  credentials(): TlsCredentials | null;
  accept(): Acceptance;
  /** TLS chosen per connection by its ClientHello (a gateway's HTTPS servers) */
  serverTls?: MeshServeOptions["serverTls"];
}

type OnConnection = (socket: Transport, conn: ConnInfo) => Http1ServerConnection;

/** the server side of every connection, and the drain on stop() */
function http1Server(options: Omit<Http1ListenOptions, "hostname" | "port">, open: (onConnection: OnConnection) => SocketServer | Promise<SocketServer>): Server | Promise<Server> {
  const connections = new Set<Http1ServerConnection>();
  let allClosed: (() => void) | null = null;
  const lifecycle = {
    draining: false,
    closed(conn: Http1ServerConnection) {
      connections.delete(conn);
      if (connections.size === 0) allClosed?.();
    },
  };
  const plain: Http1ServerOptions = {
    handler: options.handler,
    onError: options.onError ?? (() => new Response("internal error", { status: 500 })),
    badRequest: options.badRequest ?? ((error) => new Response(error.details, { status: error.status, headers: { connection: "close" } })),
    limits: options.limits,
    scheme: "http",
    lifecycle,
  };
  if (options.h2c) {
    const handoff = http2Handoff(streamHandler(options.handler, plain.onError), options.limits ?? DEFAULT_HEAD_LIMITS);
    plain.http2 = (channel, conn) => handoff.accept(channel, conn);
  }
  const secure: Http1ServerOptions = { ...plain, scheme: "https", http2: undefined };
  const onConnection: OnConnection = (socket, conn) => {
    const connection = new Http1ServerConnection(socket, conn, conn.secure ? secure : plain);
    connections.add(connection);
    return connection;
  };
  const wrap = (sockets: SocketServer): Server => ({
    hostname: sockets.hostname,
    port: sockets.port,
    async stop(force = false) {
      lifecycle.draining = true;
      await sockets.stop(force);
      for (const conn of [...connections]) {
        if (force || conn.idle) conn.close(!force);
        else conn.drainTunnel();
      }
      if (connections.size === 0) return;
      await new Promise<void>((resolve) => (allClosed = resolve));
    },
  });
  const sockets = open(onConnection);
  return sockets instanceof Promise ? sockets.then(wrap) : wrap(sockets);
}

/** on the runtime's native sockets; throws at once when the address cannot be bound */
export function listenHttp1(options: Http1ListenOptions): Server {
  return http1Server(options, (onConnection) =>
    platform.serveSockets({
      hostname: options.hostname,
      port: options.port,
      tls: options.tls,
      verifyPeer: options.verifyPeer,
      onRefused: options.onRefused,
      reusePort: options.reusePort,
      onConnection,
    }),
  ) as Server;
}

/** on the sniffing mesh listener */
export function listenHttp1Mesh(options: Http1MeshListenOptions): Promise<Server> {
  return http1Server(options, (onConnection) =>
    serveMesh({
      hostname: options.hostname,
      port: options.port,
      credentials: options.credentials,
      accept: options.accept,
      verifyPeer: options.verifyPeer,
      onRefused: options.onRefused,
      reusePort: options.reusePort,
      serverTls: options.serverTls,
      onConnection,
    }),
  ) as Promise<Server>;
}
