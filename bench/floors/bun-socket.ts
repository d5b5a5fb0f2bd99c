// Floor (a) on Bun: a bare Bun.listen server that answers every request with one fixed HTTP/1.1
// response, parsing nothing beyond finding the CRLFCRLF that ends each request head. No proxy can
// beat this on Bun; the bench writes it down next to the proxies (docs/performance.md).
// Usage: bun bench/floors/bun-socket.ts --port N   (0 = any free port). Prints the bound port.
import { parseArgs } from "node:util";
import { countHeads, fixedResponse } from "./fixed.ts";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const response = fixedResponse();

const server = Bun.listen<{ matched: number }>({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open(socket) {
      socket.data = { matched: 0 };
    },
    data(socket, data) {
      const heads = countHeads(socket.data.matched, data);
      socket.data.matched = heads.matched;
      // Pipelined requests get their answers in one write, in order.
      if (heads.count === 1) socket.write(response);
      else if (heads.count > 1) socket.write(Buffer.concat(Array(heads.count).fill(response)));
    },
  },
});

console.log(server.port);
