// Floor (b) on Deno: Deno.serve answering every request with the fixed response from JavaScript.
// What Deno's own HTTP server costs per request; a proxy on it cannot do better.
// Usage: deno run -A bench/floors/deno-serve.ts --port N   (0 = any free port). Prints the bound port.
import { body } from "./fixed.ts";
import { Deno, flags } from "./deno.ts";

const headers = { "content-type": "text/plain" };
Deno.serve(
  { hostname: "127.0.0.1", port: Number(flags().port), onListen: (addr) => console.log(addr.port) },
  () => new Response(body, { headers }),
);
