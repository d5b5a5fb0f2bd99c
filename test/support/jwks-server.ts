// An identity provider's key endpoint for end-to-end tests: serves a JWK set at /jwks.json on a
// loopback port the OS chooses, counts the fetches, and lets a test swap the keys (rotation).
import type { JWK } from "jose";
import { platform, type Server } from "../../runtime/platform/index.ts";

export interface JwksServer {
  server: Server;
  /** the jwksUri to put in a RequestAuthentication */
  uri: string;
  /** how many times the key set was fetched */
  fetches(): number;
  setKeys(keys: JWK[]): void;
}

export function startJwksServer(keys: JWK[]): JwksServer {
  let current = keys;
  let fetches = 0;
  const server = platform.serve({
    hostname: "127.0.0.1",
    port: 0,
    handler(request) {
      if (new URL(request.url).pathname !== "/jwks.json") return new Response("not found", { status: 404 });
      fetches++;
      return new Response(JSON.stringify({ keys: current }), { headers: { "content-type": "application/json" } });
    },
  });
  return {
    server,
    uri: `http://127.0.0.1:${server.port}/jwks.json`,
    fetches: () => fetches,
    setKeys: (next) => void (current = next),
  };
}
