// The differential oracle for dietmesh's upstream response parser (test/exchange/http1/
// response-fuzz.test.ts): Node's own llhttp in RESPONSE mode, strict — kLenientNone, none of the
// lenient flags (so it refuses Content-Length beside chunked, and an empty or non-token chunk
// extension name) — one fresh parser per input, answering as node:http's client does
// (interim 1xx and responses to HEAD skip their body). Reads JSON lines {id, b64, method} on stdin —
// the bytes the server sent, then the server closes — and answers one JSON line per input, in order:
//   {id, ok, head, status, reason, minor, headers: [[name, value], ...], keepAlive, upgrade,
//    body (base64), untilClose, error, errorAfter}
// head: the final (non-1xx, or 101) head was parsed; ok: its message also completed, before the
// close or at it (untilClose); error: llhttp's code when it did not; errorAfter: a parse error in
// the bytes after a complete final response (what follows is another message or garbage).
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const { HTTPParser } = require("node:_http_common");

const MAX_HEADER_SIZE = 1024 * 1024; // far above what the fuzz makes; dietmesh's own limits are tested apart

function parse(bytes, method) {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, MAX_HEADER_SIZE, HTTPParser.kLenientNone);
  let flat = [];
  /** the final response, once its head is complete */
  let final = null;
  let current = null;
  let atEof = false;
  // more than 32 header pairs come in batches through kOnHeaders before kOnHeadersComplete
  parser[HTTPParser.kOnHeaders] = (headers) => {
    flat.push(...headers);
  };
  parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, _m, _u, status, reason, upgrade, keepAlive) => {
    if (headers) flat.push(...headers);
    const pairs = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    flat = [];
    current = { status, reason, major, minor, headers: pairs, keepAlive: !!keepAlive, upgrade: !!upgrade, body: [], complete: false, untilClose: false };
    const interim = status >= 100 && status < 200 && status !== 101;
    if (!interim && !final) final = current;
    // node:http's client: 1xx and HEAD answers have no body (1 = skip the body)
    return interim || method === "HEAD" ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (chunk) => {
    current?.body.push(Buffer.from(chunk));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (!current) return;
    current.complete = true;
    current.untilClose = atEof;
  };
  parser[HTTPParser.kOnExecute] = () => {};
  let error = null;
  const returned = parser.execute(Buffer.from(bytes));
  if (returned instanceof Error) error = returned.code ?? returned.message;
  else if (!final?.upgrade) {
    // the server closes: a close-delimited body ends here, anything else unfinished is an error
    atEof = true;
    const ended = parser.finish();
    if (ended instanceof Error) error = ended.code ?? ended.message;
  }
  parser.free();
  if (!final) return { ok: false, head: false, error: error ?? "incomplete" };
  const answer = {
    head: true,
    status: final.status,
    reason: final.reason,
    major: final.major,
    minor: final.minor,
    headers: final.headers,
    keepAlive: final.keepAlive,
    upgrade: final.upgrade,
    body: Buffer.concat(final.body).toString("base64"),
    untilClose: final.untilClose,
  };
  if (final.complete) return { ok: true, ...answer, errorAfter: error };
  return { ok: false, ...answer, error: error ?? "incomplete" };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line) continue;
  const { id, b64, method } = JSON.parse(line);
  let answer;
  try {
    answer = parse(Buffer.from(b64, "base64"), method);
  } catch (error) {
    answer = { ok: false, head: false, error: "oracle: " + (error instanceof Error ? error.message : String(error)) };
  }
  process.stdout.write(JSON.stringify({ id, ...answer }) + "\n");
}
