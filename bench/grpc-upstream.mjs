// The gRPC rows' upstream, and their floors: an h2c server on node:http2 answering every unary call
// with one small message and grpc-status 0 in trailers, as a gRPC server does. The mesh-grpc rows'
// upstream runs on Node: Bun's http2 server indexes HPACK's dynamic table after nginx's grpc_pass
// set its size to 0 ("upstream sent invalid http2 table index"), so nginx could not use it. Run on
// Bun or Deno it is the floor rows grpc-direct-bun/-deno: the runtime's own http2 server answering
// h2load directly. Plain JavaScript, so Node 20 runs it. Prints its port on a line of its own.
// Usage: node|bun bench/grpc-upstream.mjs --port 0
import * as http2 from "node:http2";

const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1] ?? 0);
// a length-prefixed message: proto3 field 1, the string "hello"
const reply = new Uint8Array([0, 0, 0, 0, 7, 0x0a, 5, ...new TextEncoder().encode("hello")]);

const server = http2.createServer();
server.on("stream", (stream) => {
  stream.on("error", () => {});
  stream.resume(); // the request message is read and dropped
  stream.on("end", () => {
    if (stream.destroyed) return;
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(reply);
  });
});
server.listen(port, "127.0.0.1", () => console.log(server.address().port));
