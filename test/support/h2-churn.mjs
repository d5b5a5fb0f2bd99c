// Connection churn against an h2c server, run with Node (a real node:http2 client): N connections,
// CONCURRENCY at a time, each sending one POST with a body, reading the whole answer, then
// closing its session, which sends GOAWAY (as gRPC clients and nghttp do when they are done).
//   node h2-churn.mjs HOST:PORT N CONCURRENCY      prints "done <n> ok <answers with status 200>"
import * as http2 from "node:http2";

const [address, total, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];

function once() {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.on("error", () => resolve(0));
    const stream = session.request({ ":method": "POST", ":path": "/churn", "content-type": "text/plain" });
    stream.end("hello");
    let status = 0;
    stream.on("response", (head) => (status = head[":status"]));
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.on("close", () => {
      session.close();
      resolve(status);
    });
  });
}

let started = 0;
let ok = 0;
async function worker() {
  while (started < total) {
    started++;
    if ((await once()) === 200) ok++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(`done ${started} ok ${ok}`);
