// Floor (b) on Bun: Bun.serve answering every request with the fixed response from JavaScript (a
// fetch handler, not a static route: a proxy runs JavaScript per request, so this is its ceiling).
// Usage: bun bench/floors/bun-serve.ts --port N   (0 = any free port). Prints the bound port.
import { parseArgs } from "node:util";
import { body } from "./fixed.ts";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const headers = { "content-type": "text/plain" };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  fetch: () => new Response(body, { headers }),
});

console.log(server.port);
