// Floor (a) on Deno: a bare Deno.listen server that answers every request with one fixed HTTP/1.1
// response, parsing nothing beyond finding the CRLFCRLF that ends each request head. No proxy can
// beat this on Deno; the bench writes it down next to the proxies (docs/performance.md).
// Usage: deno run -A bench/floors/deno-socket.ts --port N   (0 = any free port). Prints the bound port.
import { countHeads, fixedResponse } from "./fixed.ts";
import { Deno, flags, type DenoConn } from "./deno.ts";

const response = fixedResponse();
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(flags().port) });
console.log(listener.addr.port);
for await (const conn of listener) void serve(conn);

async function serve(conn: DenoConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(16 * 1024);
  let matched = 0;
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const heads = countHeads(matched, buffer.subarray(0, n));
      matched = heads.matched;
      for (let i = 0; i < heads.count; i++) await writeAll(conn, response);
    }
  } catch {
    // the peer reset the connection: nothing to answer
  } finally {
    try { conn.close(); } catch { /* already closed */ }
  }
}

async function writeAll(conn: DenoConn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; ) off += await conn.write(bytes.subarray(off));
}
