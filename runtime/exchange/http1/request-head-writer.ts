// Serialises a request head into one string (then one write): the headers exactly as given, Host
// included, plus Transfer-Encoding: chunked when a body has no Content-Length. CR or LF in a name,
// value, method or target is refused with a TypeError, as fetch does: a header we build must never
// split into two.
import { isToken } from "./response-head.ts";
import { HeaderList } from "../header-list.ts";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]);

/** what the head says about the body that follows */
export interface BodyFraming {
  /** bytes the Content-Length header promised, -1 without one (then chunked if there is a body) */
  contentLength: number;
}

// Headers.forEach with a shared this-object: no closure per request. forEach is synchronous, so
// one builder at module level is never used by two heads at once.
const builder = { text: "", contentLength: -1, transferEncoding: false, bad: "" };

function appendHeader(this: typeof builder, value: string, name: string): void {
  if (value.indexOf("\r") >= 0 || value.indexOf("\n") >= 0 || name.indexOf("\r") >= 0 || name.indexOf("\n") >= 0) {
    this.bad = name;
    return;
  }
  if (name.length === 14 && name === "content-length") this.contentLength = contentLength(value);
  else if (name.length === 17 && name === "transfer-encoding") this.transferEncoding = true;
  this.text += name + ": " + value + "\r\n";
}

function contentLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -2;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return -2;
  }
  return Number(value);
}

export function requestHead(method: string, target: string, headers: Headers, hasBody: boolean, out: BodyFraming): string {
  if (method !== "GET" && !KNOWN_METHODS.has(method) && !isToken(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  if (target.length === 0 || target.indexOf(" ") >= 0 || target.indexOf("\r") >= 0 || target.indexOf("\n") >= 0) {
    throw new TypeError(`invalid request target ${JSON.stringify(target)}`);
  }
  builder.text = method + " " + target + " HTTP/1.1\r\n";
  builder.contentLength = -1;
  builder.transferEncoding = false;
  builder.bad = "";
  if (headers instanceof HeaderList) {
    // the fields in the order they came (HeaderList's arrays): no sorting, no native calls, and no
    // search for CR or LF: a header list holds none (its names are tokens, its values refused them)
    const names = headers.fieldNames;
    const values = headers.fieldValues;
    let text = builder.text;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = values[i];
      if (name.length === 14 && name === "content-length") builder.contentLength = contentLength(value);
      else if (name.length === 17 && name === "transfer-encoding") builder.transferEncoding = true;
      text += name + ": " + value + "\r\n";
    }
    builder.text = text;
  } else headers.forEach(appendHeader as (value: string, name: string) => void, builder);
  const text = builder.text;
  builder.text = "";
  if (builder.bad) throw new TypeError(`CR or LF in header ${JSON.stringify(builder.bad)}`);
  if (builder.contentLength === -2) throw new TypeError("invalid content-length");
  out.contentLength = builder.contentLength;
  if (!hasBody) {
    if (builder.contentLength > 0) throw new TypeError("content-length without a body");
    return text + "\r\n";
  }
  if (builder.contentLength >= 0 || builder.transferEncoding) return text + "\r\n";
  return text + "transfer-encoding: chunked\r\n\r\n";
}
