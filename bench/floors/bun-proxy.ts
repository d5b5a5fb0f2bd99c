// Floor (c) on Bun: the naive proxy, Bun.serve + fetch to the upstream with the request's method,
// path and headers, the upstream's response handed back as it is. What a proxy costs on Bun before
// any routing, policy or telemetry; DESIGN.md puts it near 0.6 x nginx.
// Usage: bun bench/floors/bun-proxy.ts --port N --upstream HOST:PORT. Prints the bound port.
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, upstream: { type: "string" } } });
if (!values.upstream) throw new Error("--upstream is required");
const origin = `http://${values.upstream}`;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  fetch(req) {
    const url = new URL(req.url);
    // decompress: false passes the upstream's bytes through, as a proxy must
    return fetch(origin + url.pathname + url.search, { method: req.method, headers: req.headers, body: req.body, decompress: false });
  },
});

console.log(server.port);
