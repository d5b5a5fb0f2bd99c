// Prints N ports that the OS chose as free on 127.0.0.1, one a line (all held open at once, so distinct).
// Usage: bun bench/free-ports.ts N
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";

const n = Number(process.argv[2] ?? "1");
const servers: Server[] = [];
for (let i = 0; i < n; i++) {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  servers.push(s);
}
console.log(servers.map((s) => (s.address() as AddressInfo).port).join("\n"));
for (const s of servers) s.close();
