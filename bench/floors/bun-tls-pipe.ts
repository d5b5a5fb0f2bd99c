// Floor for the mesh row on Bun: a pair of pipes with mTLS between them — A takes plaintext and opens
// a TLS connection with a client certificate to B (B's certificate verified against the root); B
// requires and verifies A's certificate and opens plaintext to the app. Bytes are relayed 1:1, no
// HTTP parsing, one upstream connection per downstream one. What any pair of mTLS proxies written on
// Bun's native TLS sockets pays before it reads a header: the mesh row's physical limit on Bun.
// Usage: bun bench/floors/bun-tls-pipe.ts --side a|b --port N --upstream HOST:PORT --cert F --key F
//        --ca F [--servername NAME]. Prints the bound port.
import { parseArgs } from "node:util";
import type { Socket } from "bun";

const { values } = parseArgs({
  options: {
    side: { type: "string" },
    port: { type: "string", default: "0" },
    upstream: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
    servername: { type: "string" },
  },
});
if (!values.upstream || !values.cert || !values.key || !values.ca) throw new Error("--upstream, --cert, --key and --ca are required");
if (values.side !== "a" && values.side !== "b") throw new Error("--side a|b is required");
const [upHost, upPort] = values.upstream.split(":");
const identity = { cert: Bun.file(values.cert), key: Bun.file(values.key), ca: Bun.file(values.ca) };
const side = values.side;

interface Side { peer?: Socket<Side>; early: Uint8Array[] }

const server = Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: Number(values.port),
  // B is the mTLS server: client certificate required and verified at the handshake
  tls: side === "b" ? { ...identity, requestCert: true, rejectUnauthorized: true } : undefined,
  socket: {
    open(down) {
      down.data = { early: [] };
      down.setNoDelay(true);
      void Bun.connect<Side>({
        hostname: upHost,
        port: Number(upPort),
        // A is the mTLS client: presents its certificate, verifies B's against the root and name
        tls: side === "a" ? { ...identity, serverName: values.servername, rejectUnauthorized: true } : undefined,
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
          connectError: () => void down.end(),
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
