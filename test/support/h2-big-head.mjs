// One GET over h2c whose header block is larger than curl (nghttp2's client: 64 KiB) will send, run
// with Node (a real node:http2 client, its own send limit raised): FIELDS fields in all, the four
// pseudo-headers included, and exactly BYTES bytes of names and values (x-f0… padded to it).
//   node h2-big-head.mjs HOST:PORT PATH FIELDS BYTES      prints "status <n>" or "reset <RST_STREAM code>"
import * as http2 from "node:http2";

const [address, path, fields, bytes] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const head = { ":method": "GET", ":path": path, ":scheme": "http", ":authority": "limits.example" };
const names = Array.from({ length: fields - 4 }, (_, i) => `x-f${i}`);
const size = Object.entries(head).reduce((n, [name, value]) => n + name.length + value.length, 0) + names.reduce((n, name) => n + name.length, 0);
const pad = bytes - size;
names.forEach((name, i) => (head[name] = "p".repeat(Math.floor(pad / names.length) + (i < pad % names.length ? 1 : 0))));

const session = http2.connect(`http://${address}`, { maxSendHeaderBlockLength: 1 << 24 });
session.on("error", (error) => console.log(`session error ${error.message}`));
const stream = session.request(head, { endStream: true });
let status = 0;
stream.on("response", (h) => (status = h[":status"]));
stream.on("error", () => {});
stream.resume();
stream.on("close", () => {
  console.log(status ? `status ${status}` : `reset ${stream.rstCode}`);
  session.close();
});
