// Floor (d) on Bun: the physical limit of a proxy on this runtime — every downstream connection gets
// its own upstream connection and bytes are relayed 1:1 both ways, with no parsing at all. What any
// HTTP proxy written on Bun's sockets pays in syscalls and event-loop turns before it reads a byte.
// Usage: bun bench/floors/bun-pipe.ts --port N --upstream HOST:PORT. Prints the bound port.
import { parseArgs } from "node:util";
import type { Socket } from "bun";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, upstream: { type: "string" } } });
if (!values.upstream) throw new Error("--upstream is required");
const [upHost, upPort] = values.upstream.split(":");

interface Side { peer?: Socket<Side>; early: Uint8Array[] }

const server = Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open(down) {
      down.data = { early: [] };
      down.setNoDelay(true);
      void Bun.connect<Side>({
        hostname: upHost,
        port: Number(upPort),
        socket: {
          open(up) {
            up.setNoDelay(true);
            up.data = { peer: down, early: [] };
            down.data.peer = up;
            for (const bytes of down.data.early) up.write(bytes);
            down.data.early = [];
          },
          data: (up, bytes) => void up.data.peer?.write(bytes),
          close: (up) => void up.data?.peer?.end(),
        },
      });
    },
    data(down, bytes) {
      if (down.data.peer) down.data.peer.write(bytes);
      else down.data.early.push(bytes);
    },
    close: (down) => void down.data.peer?.end(),
  },
});

console.log(server.port);
