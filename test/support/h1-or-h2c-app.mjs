// An app that speaks both protocols on one port, for the sidecar-pair tests: a connection that
// opens with the HTTP/2 preface is piped byte for byte to the gRPC server at the port given (a
// grpc-peer.mjs server), any other is answered by a small HTTP/1.1 server ("h1 <name> <path>").
// Run with Node: node h1-or-h2c-app.mjs NAME GRPC_PORT → "listening <port>".
import * as net from "node:net";
import * as http from "node:http";

const [name, grpcPort] = process.argv.slice(2);
const h1 = http.createServer((req, res) => {
  req.resume();
  res.setHeader("content-type", "text/plain");
  res.end(`h1 ${name} ${req.url} ${req.httpVersion}`);
});
const PREFACE = "PRI * HTTP/2.0";
const server = net.createServer((socket) => {
  socket.once("data", (first) => {
    socket.pause();
    if (first.subarray(0, PREFACE.length).toString("latin1") === PREFACE) {
      const upstream = net.connect(Number(grpcPort), "127.0.0.1", () => {
        upstream.write(first);
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
      return;
    }
    socket.unshift(first);
    h1.emit("connection", socket);
    socket.resume();
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
