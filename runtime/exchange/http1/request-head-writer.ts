// Serialises a request head into one array (then one write): the headers exactly as given, Host
// included, plus Transfer-Encoding: chunked when a body has no Content-Length. CR or LF in a name,
// value, method or target is refused with a TypeError, as fetch does: a header we build must never
// split into two.
import { isToken } from "./response-head.ts";
import { HeaderList } from "../header-list.ts";
import { headBytes, latin1 } from "../../platform/http1/bytes.ts";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]);

/** what the head says about the body that follows */
export interface BodyFraming {
  /** bytes the Content-Length header promised, -1 without one (then chunked if there is a body) */
  contentLength: number;
}

// Headers.forEach with a shared this-object: no closure per request. forEach is synchronous, so
// one builder at module level is never used by two heads at once; its arrays are reused.
const builder = { names: [] as string[], values: [] as string[], count: 0, contentLength: -1, transferEncoding: false, bad: "" };

function appendHeader(this: typeof builder, value: string, name: string): void {
  if (value.indexOf("\r") >= 0 || value.indexOf("\n") >= 0 || name.indexOf("\r") >= 0 || name.indexOf("\n") >= 0) {
    this.bad = name;
    return;
  }
  framingField(name, value);
  this.names[this.count] = name;
  this.values[this.count] = value;
  this.count++;
}

/** notes Content-Length and Transfer-Encoding in the builder */
function framingField(name: string, value: string): void {
  if (name.length === 14 && name === "content-length") builder.contentLength = contentLength(value);
  else if (name.length === 17 && name === "transfer-encoding") builder.transferEncoding = true;
}

function contentLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -2;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -2;
  }
  return Number(value);
}

/** the head as bytes, ready for one write (see headBytes: on Bun each field is written natively, no string of the whole head) */
export function requestHeadBytes(method: string, target: string, headers: Headers, hasBody: boolean, out: BodyFraming): Uint8Array {
  if (method !== "GET" && !KNOWN_METHODS.has(method) && !isToken(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  if (target.length === 0 || target.indexOf(" ") >= 0 || target.indexOf("\r") >= 0 || target.indexOf("\n") >= 0) {
    throw new TypeError(`invalid request target ${JSON.stringify(target)}`);
  }
  builder.contentLength = -1;
  builder.transferEncoding = false;
  builder.bad = "";
  let names: readonly string[];
  let values: readonly string[];
  let count: number;
  if (headers instanceof HeaderList) {
    // the fields in the order they came (HeaderList's arrays): no sorting, no native calls, and no
    // search for CR or LF: a header list holds none (its names are tokens, its values refused them)
    names = headers.fieldNames;
    values = headers.fieldValues;
    count = names.length;
    for (let i = 0; i < count; i++) framingField(names[i], values[i]);
  } else {
    builder.count = 0;
    headers.forEach(appendHeader as (value: string, name: string) => void, builder);
    names = builder.names;
    values = builder.values;
    count = builder.count;
  }
  try {
    if (builder.bad) throw new TypeError(`CR or LF in header ${JSON.stringify(builder.bad)}`);
    if (builder.contentLength === -2) throw new TypeError("invalid content-length");
    out.contentLength = builder.contentLength;
    if (!hasBody && builder.contentLength > 0) throw new TypeError("content-length without a body");
    const end = !hasBody || builder.contentLength >= 0 || builder.transferEncoding ? "\r\n" : "transfer-encoding: chunked\r\n\r\n";
    return headBytes(method + " " + target + " HTTP/1.1\r\n", names, values, count, end);
  } finally {
    // the scratch arrays hold no request's strings past its head
    if (names === builder.names) builder.names.length = builder.values.length = 0;
  }
}

/** the same head as text (latin1): what the tests read */
export function requestHead(method: string, target: string, headers: Headers, hasBody: boolean, out: BodyFraming): string {
  const bytes = requestHeadBytes(method, target, headers, hasBody, out);
  return latin1(bytes, 0, bytes.length);
}
