// Hosts a plain fetch handler on a data listener (outbound, inbound, gateway ports). These have one
// route — "everything goes to the handler" — so they are served directly: a one-route Hono app in
// front measured at about a third of the sidecar's throughput on Bun (docs/performance.md). Hono
// stays where there is real routing: the admin API and the CA's HTTPS API.
import { platform, type FetchHandler, type Server } from "../platform/index.ts";
import { localReply } from "./local-reply.ts";
import { ProxyError } from "./errors.ts";

export interface ListenAddress {
  hostname: string;
  port: number;
}

/** "127.0.0.1:15001", "[::1]:80", ":8080" (all interfaces) or "8080" */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

export function listen(address: ListenAddress, handler: FetchHandler, log: (m: string) => void): Server {
  return platform.serve({
    hostname: address.hostname,
    port: address.port,
    handler,
    onError(error) {
      log(`listener ${address.hostname}:${address.port}: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal"));
    },
  });
}
