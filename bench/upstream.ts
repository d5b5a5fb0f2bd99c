// Bench upstream: the smallest useful HTTP server, so that the bench measures the proxy, not this.
// GET / (and /bench/hello, the path the gateway rows route) is a static route, which Bun answers
// without running JavaScript: the upstream shares a CPU with the load generator and must not be what
// limits the proxies' throughput.
// Usage: bun bench/upstream.ts --port N   (0 = let the OS choose). Prints the bound port on stdout.
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const body = "hello from the dietmesh bench upstream\n";
const headers = { "content-type": "text/plain" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  routes: { "/": new Response(body, { headers }), "/bench/hello": new Response(body, { headers }) },
  fetch(req) {
    if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
    return new Response(body, { headers });
  },
});

console.log(server.port);
