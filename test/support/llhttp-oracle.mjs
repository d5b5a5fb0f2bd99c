// The differential oracle for dietmesh's request-head parser: Node's own llhttp (the parser behind
// node:http), strict, one fresh parser per input. Reads JSON lines {id, b64} on stdin and answers
// one JSON line per input, in order:
//   {id, ok, method, url, minor, headers: [[name, value], ...], keepAlive, upgrade, error}
// ok is true only when llhttp completed the head without an error. Node 20 exposes the parser as
// node:_http_common's HTTPParser without flags; lenient flags stay off (kLenientNone).
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const { HTTPParser, methods } = require("node:_http_common");

const MAX_HEADER_SIZE = 1024 * 1024; // the fuzz stays far below; dietmesh's own limits are tested apart

function parse(bytes) {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, MAX_HEADER_SIZE, HTTPParser.kLenientNone);
  const flat = [];
  let url = "";
  let result = null;
  // headers arrive in batches of 32 pairs through kOnHeaders when a head has many of them
  parser[HTTPParser.kOnHeaders] = (headers, partUrl) => {
    flat.push(...headers);
    url += partUrl;
  };
  parser[HTTPParser.kOnHeadersComplete] = (major, minor, headers, method, partUrl, _s, _m, upgrade, keepAlive) => {
    if (headers) flat.push(...headers);
    if (partUrl) url += partUrl;
    const pairs = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
    result = { ok: true, method: methods[method], url, major, minor, headers: pairs, keepAlive: !!keepAlive, upgrade: !!upgrade };
    return 0; // as node:http does, so llhttp still checks the framing after the head
  };
  parser[HTTPParser.kOnBody] = () => {};
  parser[HTTPParser.kOnMessageComplete] = () => {};
  parser[HTTPParser.kOnExecute] = () => {};
  const returned = parser.execute(Buffer.from(bytes));
  parser.free();
  if (returned instanceof Error) return { ok: false, error: returned.code ?? returned.message, reason: returned.reason };
  if (!result) return { ok: false, error: "incomplete" };
  return result;
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line) continue;
  const { id, b64 } = JSON.parse(line);
  let answer;
  try {
    answer = parse(Buffer.from(b64, "base64"));
  } catch (error) {
    answer = { ok: false, error: "oracle: " + (error instanceof Error ? error.message : String(error)) };
  }
  process.stdout.write(JSON.stringify({ id, ...answer }) + "\n");
}
