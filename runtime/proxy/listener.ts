// Hosts a plain fetch handler on a listener. Every listener is a Hono app (one catch-all route in
// front of the handler) so middleware can be added the Hono way; DIETMESH_BARE_HANDLER=1 serves
// the handler directly, which the bench uses to measure what Hono costs on the hot path.
import { Hono } from "hono";
import { platform, type ConnInfo, type FetchHandler, type Server } from "../platform/index.ts";
import { localReply } from "./local-reply.ts";
import { ProxyError } from "./errors.ts";

type Env = { Bindings: { conn: ConnInfo } };

export function asHonoHandler(handler: FetchHandler): FetchHandler {
  if (platform.env("DIETMESH_BARE_HANDLER") === "1") return handler;
  const app = new Hono<Env>();
  app.all("*", (c) => handler(c.req.raw, c.env.conn));
  return (request, conn) => app.fetch(request, { conn });
}

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
