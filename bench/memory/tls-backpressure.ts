// Does the runtime's node:tls hold backpressure on a TLSSocket wrapped around an accepted
// node:net socket (how mesh-listener.ts serves Gateway HTTPS and mesh mTLS after sniffing)?
// read: the server pauses after 1 MB while the client writes fast; prints what the raw socket read.
// write: the server writes whenever write()/drain allow to a client that reads nothing for 3 s.
// Usage: bun|deno run -A bench/memory/tls-backpressure.ts read|write [--stop-beneath]
//   --stop-beneath: pause with runtime/platform/socket-reads.ts (what dietmesh does), not pause()
// 2026-12-05: Bun read 1.9 MB / accepted 4 MB; Deno read 30–64 MB / accepted 68 MB. Both Deno
// figures are one fault: a paused Deno TLS socket keeps reading off the wire — here the server's,
// and in write mode the client's, so the server's writes drain. With a client that truly stops
// reading (Python's ssl) the server accepted 3.9 MB on Deno as on Bun. --stop-beneath: Deno read
// 1.1 MB (the whole fix is stopping the TCP handle under the TLS socket).
import { createServer, type AddressInfo, type Socket } from "node:net";
import { TLSSocket, connect, createSecureContext } from "node:tls";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { pauseReads } from "../../runtime/platform/socket-reads.ts";
import { tmpdir } from "node:os";

const dir = mkdtempSync(`${tmpdir()}/tls-bp-`);
execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=x", "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`], { stdio: "ignore" });
const context = createSecureContext({ key: readFileSync(`${dir}/k.pem`), cert: readFileSync(`${dir}/c.pem`) });
const mode = process.argv.includes("write") ? "write" : "read";
const stopBeneath = process.argv.includes("--stop-beneath");
const pause = (socket: TLSSocket) => (stopBeneath ? pauseReads(socket) : socket.pause());
const chunk = new Uint8Array(64 * 1024).fill(97);
const MB = (n: number) => (n / 1e6).toFixed(1);
let tls!: TLSSocket;
let raw!: Socket;
let got = 0;
let sent = 0;
await new Promise<void>((ready) => {
  const server = createServer((socket) => {
    raw = socket;
    tls = new TLSSocket(socket, { isServer: true, secureContext: context });
    tls.once("secure", () => ready());
    if (mode === "read") tls.on("data", (d: Uint8Array) => ((got += d.byteLength) > 1e6 && (pause(tls), raw.pause())));
  });
  server.listen(0, "127.0.0.1", () => {
    const client = connect({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, rejectUnauthorized: false }, () => {
      if (mode === "write") return void pause(client);
      const more = () => {
        while (sent < 300e6) {
          sent += chunk.length;
          if (!client.write(chunk)) return void client.once("drain", more);
        }
      };
      more();
    });
  });
});
if (mode === "write") {
  let accepted = 0;
  const more = () => {
    while (accepted < 500e6) {
      accepted += chunk.length;
      if (!tls.write(chunk)) return void tls.once("drain", more);
    }
  };
  more();
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`write: ${MB(accepted)} MB accepted for a client that reads nothing (3 s); RSS ${MB(process.memoryUsage.rss())} MB`);
} else {
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`read: paused after ${MB(got)} MB; the raw socket read ${MB(raw.bytesRead)} MB of ${MB(sent)} MB sent; RSS ${MB(process.memoryUsage.rss())} MB`);
}
process.exit(0);
