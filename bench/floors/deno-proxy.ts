// Floor (c) on Deno: the naive proxy, Deno.serve + fetch to the upstream with the request's method,
// path and headers, the upstream's response handed back as it is. What a proxy costs on Deno before
// any routing, policy or telemetry. (Deno's fetch sets Host from the URL; the bench upstream ignores it.)
// Usage: deno run -A bench/floors/deno-proxy.ts --port N --upstream HOST:PORT. Prints the bound port.
import { Deno, flags } from "./deno.ts";

const { port, upstream } = flags();
if (!upstream) throw new Error("--upstream is required");
const origin = `http://${upstream}`;

Deno.serve(
  { hostname: "127.0.0.1", port: Number(port), onListen: (addr) => console.log(addr.port) },
  (req) => {
    const url = new URL(req.url);
    return fetch(origin + url.pathname + url.search, { method: req.method, headers: req.headers, body: req.body });
  },
);
