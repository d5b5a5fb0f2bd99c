// Plaintext listeners on Deno's own TCP ops (Deno.listen), each accepted connection handed to a
// runtime-neutral handler through the Transport contract (DenoTransport, shared with the client).
// TLS with client certificates is not offered: Deno's TLS listener cannot request them, so the
// mesh listener stays on node:tls there (mesh-listener.ts).
import { DenoTransport } from "./http1/deno-transport.ts";
import type { SocketServeOptions, SocketServer } from "./types.ts";

interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: { port: number };
  close(): void;
}
interface DenoConn {
  readonly remoteAddr: { hostname: string; port: number };
  readonly localAddr: { hostname: string; port: number };
  setNoDelay(on?: boolean): void;
}
const D = (globalThis as unknown as { Deno: { listen(options: { hostname: string; port: number }): DenoListener } }).Deno;

export function denoServeSockets(options: SocketServeOptions): SocketServer {
  if (options.tls) throw new Error("TLS listeners with client certificates are not available on Deno");
  const listener = D.listen({ hostname: options.hostname, port: options.port });
  const open = new Set<DenoTransport>();
  let stopped = false;
  (async () => {
    try {
      for await (const conn of listener) {
        if (stopped) break;
        conn.setNoDelay(true);
        const transport = new DenoTransport(null as never);
        open.add(transport);
        const destroy = transport.destroy.bind(transport);
        transport.destroy = () => {
          open.delete(transport);
          destroy();
        };
        const handler = options.onConnection(transport, { remoteAddress: conn.remoteAddr.hostname, remotePort: conn.remoteAddr.port, localAddress: conn.localAddr.hostname, localPort: conn.localAddr.port });
        transport.handler = {
          onOpen: () => handler.onOpen(),
          onData: (chunk) => handler.onData(chunk),
          onDrain: () => handler.onDrain(),
          onClose(error) {
            open.delete(transport);
            handler.onClose(error);
          },
        };
        transport.opened(conn as never);
      }
    } catch {
      // the listener was closed
    }
  })();
  return {
    hostname: options.hostname,
    port: listener.addr.port,
    connections: () => open.size,
    async stop(force = false) {
      if (!stopped) {
        stopped = true;
        listener.close();
      }
      if (force) for (const t of [...open]) t.destroy();
    },
  };
}
