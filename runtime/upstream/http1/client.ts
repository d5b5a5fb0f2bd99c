// An UpstreamClient over one ConnectionPool: the address is the URL's authority, the pool does the
// rest. Only http:// goes through the pool; anything else goes to the fallback client, if any.
import { UpstreamError, type HttpClient, type UpstreamRequest } from "../../platform/types.ts";
import type { ConnectionPool } from "../pool-types.ts";
import type { HttpResponse } from "../../exchange/types.ts";

/** "10.0.0.1:8080" from "http://10.0.0.1:8080/path?q", or null when the URL is not http:// */
export function httpAddress(url: string): string | null {
  if (!url.startsWith("http://")) return null;
  let end = url.indexOf("/", 7);
  if (end < 0) end = url.length;
  const query = url.indexOf("?", 7);
  if (query >= 0 && query < end) end = query;
  return url.slice(7, end);
}

/** "/path?q" from "http://10.0.0.1:8080/path?q" ("/" when the URL names no path; "/?q" for "http://h?q") */
export function targetOf(url: string): string {
  const authority = url.indexOf("//") + 2;
  const slash = url.indexOf("/", authority);
  const query = url.indexOf("?", authority);
  if (query >= 0 && (slash < 0 || query < slash)) return "/" + url.slice(query);
  return slash < 0 ? "/" : url.slice(slash);
}

export function createPoolClient(pool: ConnectionPool, fallback?: HttpClient): HttpClient {
  return {
    send(request: UpstreamRequest): Promise<HttpResponse> {
      const address = request.address ?? httpAddress(request.url);
      if (address !== null) {
        // HTTP/1.1 requires Host (RFC 9112 §3.2); the proxy always sets it, other callers may not
        if (!request.headers.has("host")) request.headers.set("host", address);
        return pool.send(address, request);
      }
      if (fallback) return fallback.send(request);
      return Promise.reject(new UpstreamError("connect", `unsupported URL scheme: ${request.url.slice(0, 8)}`));
    },
  };
}
