// Upstream HTTP client for Bun: its fetch pools keep-alive connections and streams both ways.
// `decompress: false` keeps gzip bodies as the upstream sent them (a proxy must not re-encode).
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from "./types.ts";

function classify(error: unknown): UpstreamError {
  const e = error as { code?: string; name?: string; message?: string };
  if (e?.name === "AbortError" || e?.name === "TimeoutError") return new UpstreamError("aborted", "request aborted");
  const code = e?.code ?? "";
  if (code === "ConnectionRefused" || code === "ECONNREFUSED" || code === "FailedToOpenSocket")
    return new UpstreamError("connect", `connection failure (${code})`);
  return new UpstreamError("reset", `${code || e?.name || "error"}: ${e?.message ?? String(error)}`);
}

export const bunUpstream: UpstreamClient = {
  async send(request: UpstreamRequest): Promise<Response> {
    try {
      // duplex is required by the spec for streamed request bodies; Bun's types omit it
      const init = {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: "manual",
        signal: request.signal,
        decompress: false,
        duplex: "half",
      } as unknown as RequestInit;
      return await fetch(request.url, init);
    } catch (error) {
      throw classify(error);
    }
  },
};
