// Bench upstream: the smallest useful HTTP server, so that the bench measures the proxy, not this.
// Usage: bun bench/upstream.ts --port N   (0 = let the OS choose). Prints the bound port on stdout.
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const body = "hello from the dietmesh bench upstream\n";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  fetch(req) {
    if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  },
});

console.log(server.port);
