// One POST over HTTP/2 that ends with trailers, run with Node (a real node:http2 client: curl sends
// no request trailers), for the tests of the head limits on trailer blocks: a header block of
// HEAD_FIELDS fields (the four pseudo-headers included) and HEAD_BYTES bytes of names and values,
// a small body, then a trailer block of TRAILER_FIELDS fields and TRAILER_BYTES bytes (x-t0… padded;
// a size of "-": the fields' values are not padded).
//   node h2-trailers.mjs ORIGIN AUTHORITY PATH HEAD_FIELDS HEAD_BYTES TRAILER_FIELDS TRAILER_BYTES [TLS...]
//   TLS: --ca FILE, --cert FILE --key FILE, --servername NAME, --insecure (as curl -k);
//   --connect HOST:PORT: where to connect instead of ORIGIN's host (as curl --connect-to)
// prints "status <n>" or "reset <RST_STREAM code>"
import * as http2 from "node:http2";
import { readFileSync } from "node:fs";

const [origin, authority, path, headFields, headBytes, trailerFields, trailerBytes, ...rest] = process.argv.slice(2);
const tls = {};
let connect;
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--insecure") tls.rejectUnauthorized = false;
  else if (rest[i] === "--servername") tls.servername = rest[++i];
  else if (rest[i] === "--connect") connect = rest[++i];
  else tls[rest[i].slice(2)] = readFileSync(rest[++i]);
}

/** fields x-<prefix>0… after base, padded so that all of them have exactly `bytes` bytes of names and values ("-": not padded) */
function block(base, prefix, fields, bytes) {
  const names = Array.from({ length: fields - Object.keys(base).length }, (_, i) => `x-${prefix}${i}`);
  const out = { ...base };
  if (bytes === "-") return (names.forEach((name, i) => (out[name] = String(i))), out);
  const size = [...Object.entries(base), ...names.map((n) => [n, ""])].reduce((n, [name, value]) => n + name.length + value.length, 0);
  const pad = Number(bytes) - size;
  if (!names.length || pad < 0) throw new Error(`no block of ${fields} fields has ${bytes} bytes`);
  names.forEach((name, i) => (out[name] = "p".repeat(Math.floor(pad / names.length) + (i < pad % names.length ? 1 : 0))));
  return out;
}

const scheme = origin.slice(0, origin.indexOf(":"));
const head = block({ ":method": "POST", ":path": path, ":scheme": scheme, ":authority": authority }, "f", Number(headFields), headBytes);
const trailers = block({}, "t", Number(trailerFields), trailerBytes);

const session = http2.connect(connect ? `${scheme}://${connect}` : origin, { ...tls, maxSendHeaderBlockLength: 1 << 24 });
session.on("error", (error) => console.log(`session error ${error.message}`));
const stream = session.request(head, { waitForTrailers: true });
stream.on("wantTrailers", () => stream.sendTrailers(trailers));
let status = 0;
stream.on("response", (h) => (status = h[":status"]));
stream.on("error", () => {});
stream.resume();
stream.on("close", () => {
  console.log(status && !stream.rstCode ? `status ${status}` : `reset ${stream.rstCode}`);
  session.close();
});
stream.end("body");
