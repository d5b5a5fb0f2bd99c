// Bench TCP upstream for the TCP rows: echoes every byte back, nothing else, on Bun's native
// sockets, so the proxy in front of it is what the rows measure.
// Usage: bun bench/tcp-echo.ts --port N   (0 = let the OS choose). Prints the bound port on stdout.
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open: (socket) => void socket.setNoDelay(true),
    // a 64-byte message fits any socket buffer: a short write does not happen at this size
    data: (socket, bytes) => void socket.write(bytes),
  },
});
console.log(server.port);
