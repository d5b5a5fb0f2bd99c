// HTTP/2's header rules (RFC 9113 §8.2–8.3), runtime-neutral: a stream's head becomes a Headers
// without pseudo-headers (Host from :authority, so routing reads one place for either protocol),
// and a Headers goes out without the connection-specific fields HTTP/2 forbids — a peer must treat
// them as a malformed message, and node:http2 refuses to send them.
import { getChecked } from "../header-list.ts";
import type { H2Head } from "../../platform/types.ts";

/** fields that describe one HTTP/1.1 connection and have no meaning on an HTTP/2 stream */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]);

/** the head's regular fields as Headers; pseudo-headers (":method", ":status", …) left out */
export function headersOfHead(head: H2Head): Headers {
  const headers = new Headers();
  for (const name in head) {
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    const value = head[name];
    if (typeof value === "string") headers.append(name, value);
    else for (const one of value) headers.append(name, one);
  }
  return headers;
}

/**
 * The fields of headers fit for an HTTP/2 head, added to out (which holds the pseudo-headers):
 * connection-specific ones and Host dropped (the caller puts the authority in :authority), TE kept
 * only as "trailers", the one value HTTP/2 allows; Set-Cookie kept as separate values.
 */
export function h2Fields(headers: Headers, out: H2Head): H2Head {
  for (const [name, value] of headers) {
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (name === "te") {
      if (value.trim().toLowerCase() === "trailers") out.te = "trailers";
      continue;
    }
    if (name === "set-cookie") continue;
    out[name] = value;
  }
  const cookies = headers.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies;
  return out;
}

/** a gRPC call: content-type application/grpc, application/grpc+proto, … (not grpc-web) */
export function isGrpc(headers: Headers): boolean {
  const type = getChecked(headers, "content-type");
  return type !== null && type.startsWith("application/grpc") && !type.startsWith("application/grpc-web");
}
