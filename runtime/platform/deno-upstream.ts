// Upstream HTTP client for Deno. Deno's fetch drops a caller's Host header and adds
// accept-language/accept-encoding of its own, so a proxy cannot use it; node:http keeps the request
// as given and pools keep-alive connections through its Agent.
import http from "node:http";
import { Readable } from "node:stream";
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from "./types.ts";

const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });

function classify(error: unknown): UpstreamError {
  const e = error as { code?: string; name?: string; message?: string };
  if (e?.name === "AbortError") return new UpstreamError("aborted", "request aborted");
  if (e?.code === "ECONNREFUSED" || e?.code === "EHOSTUNREACH" || e?.code === "ENETUNREACH")
    return new UpstreamError("connect", `connection failure (${e.code})`);
  return new UpstreamError("reset", `${e?.code || e?.name || "error"}: ${e?.message ?? String(error)}`);
}

function toHeaderObject(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, key) => (out[key] = value));
  const cookies = headers.getSetCookie?.();
  if (cookies?.length) out["set-cookie"] = cookies;
  return out;
}

export const denoUpstream: UpstreamClient = {
  send(request: UpstreamRequest): Promise<Response> {
    const url = new URL(request.url);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
          port: url.port || 80,
          path: url.pathname + url.search,
          method: request.method,
          headers: toHeaderObject(request.headers),
          agent,
          signal: request.signal,
        },
        (res) => {
          const headers = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const bodyless = request.method === "HEAD" || res.statusCode === 204 || res.statusCode === 304;
          const body = bodyless ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status: res.statusCode ?? 502, statusText: res.statusMessage, headers }));
        },
      );
      req.on("error", (error) => reject(classify(error)));
      if (!request.body) {
        req.end();
        return;
      }
      Readable.fromWeb(request.body as never).on("error", (e) => req.destroy(e)).pipe(req);
    });
  },
};
