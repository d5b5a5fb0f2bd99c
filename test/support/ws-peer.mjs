// A real WebSocket peer for the end-to-end tests, run with Node so it is the same client and server
// whichever runtime the proxy under test uses (the `ws` package, as apps use it). One line per event
// on stdout, for Child.waitFor.
//   node ws-peer.mjs server                      echo server on 127.0.0.1:<port>: "listening <port>"
//   node ws-peer.mjs client <url> [host]         text + 1 MiB binary round trips, then a clean close
//   node ws-peer.mjs hold <url> [host]           opens, says "open", waits until the other side closes
//   node ws-peer.mjs greet <url> [host]          prints the server's greeting, sends "ping", prints the
//                                                answer, closes cleanly (the hello-istio demo app)
import { WebSocket, WebSocketServer } from "ws";

const [mode, url, host] = process.argv.slice(2);
const headers = host ? { host } : undefined;

if (mode === "server") {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  server.on("listening", () => console.log(`listening ${server.address().port}`));
  server.on("connection", (socket, request) => {
    console.log(`connected path=${request.url} host=${request.headers.host} xfcc=${request.headers["x-forwarded-client-cert"] ?? "-"}`);
    socket.on("message", (data, binary) => socket.send(binary ? data : `echo: ${data}`, { binary }));
    socket.on("close", (code) => console.log(`server closed ${code}`));
  });
} else if (mode === "client") {
  const socket = new WebSocket(url, { headers });
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
  socket.on("open", () => socket.send("hello"));
  let step = 0;
  socket.on("message", (data, binary) => {
    if (step === 0) {
      console.log(`text ${data}`);
      step = 1;
      socket.send(big, { binary: true });
    } else if (step === 1) {
      console.log(`binary ${binary} ${data.length} ${Buffer.compare(data, big) === 0 ? "same" : "different"}`);
      step = 2;
      socket.close(1000, "done");
    }
  });
  socket.on("unexpected-response", (_req, res) => {
    console.log(`refused ${res.statusCode}`);
    process.exit(2);
  });
  socket.on("error", (error) => console.log(`error ${error.message}`));
  socket.on("close", (code) => {
    console.log(`closed ${code}`);
    process.exit(step === 2 && code === 1000 ? 0 : 1);
  });
} else if (mode === "hold") {
  const socket = new WebSocket(url, { headers });
  socket.on("open", () => {
    console.log("open");
    socket.send("ping");
  });
  socket.on("message", (data) => console.log(`text ${data}`));
  socket.on("error", (error) => console.log(`error ${error.message}`));
  socket.on("close", (code) => {
    console.log(`closed ${code}`);
    process.exit(0);
  });
} else if (mode === "greet") {
  const socket = new WebSocket(url, { headers });
  let seen = 0;
  socket.on("message", (data) => {
    console.log(`text ${data}`);
    if (++seen === 1) socket.send("ping");
    else socket.close(1000, "done");
  });
  socket.on("unexpected-response", (_req, res) => {
    console.log(`refused ${res.statusCode}`);
    process.exit(2);
  });
  socket.on("error", (error) => console.log(`error ${error.message}`));
  socket.on("close", (code) => {
    console.log(`closed ${code}`);
    process.exit(seen === 2 && code === 1000 ? 0 : 1);
  });
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(64);
}
