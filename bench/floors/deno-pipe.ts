// Floor (d) on Deno: the physical limit of a proxy on this runtime — every downstream connection gets
// its own upstream connection and bytes are relayed 1:1 both ways, with no parsing at all.
// Usage: deno run -A bench/floors/deno-pipe.ts --port N --upstream HOST:PORT. Prints the bound port.
import { Deno, flags, type DenoConn } from "./deno.ts";

const { port, upstream } = flags();
if (!upstream) throw new Error("--upstream is required");
const [upHost, upPort] = upstream.split(":");

async function relay(from: DenoConn, to: DenoConn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buffer.subarray(off, n));
    }
  } catch {
    // the other side went away
  }
  try { to.close(); } catch { /* closed */ }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(port) });
console.log(listener.addr.port);
for await (const down of listener) {
  down.setNoDelay(true);
  Deno.connect({ hostname: upHost, port: Number(upPort) }).then((up) => {
    up.setNoDelay(true);
    void relay(down, up);
    void relay(up, down);
  }, () => down.close());
}
