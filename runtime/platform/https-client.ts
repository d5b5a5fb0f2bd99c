// A one-shot HTTPS request that trusts only the given roots: how a sidecar talks to `dietmesh ca
// serve`. node:https takes a per-request `ca` on both runtimes (fetch needs Bun's `tls` option on
// one and Deno.createHttpClient on the other), and this is not on any request path.
import { request as httpsRequest } from "node:https";

export interface HttpsCall {
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** PEM roots to verify the server with (and nothing else) */
  caPem: string;
  timeoutMs?: number;
}

export interface HttpsReply {
  status: number;
  body: string;
}

export function httpsCall(call: HttpsCall): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(call.url, { method: call.method, headers: call.headers, ca: call.caPem, timeout: call.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("end", () => {
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        const all = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) {
          all.set(c, at);
          at += c.byteLength;
        }
        resolve({ status: res.statusCode ?? 0, body: new TextDecoder().decode(all) });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${call.url}: no answer within ${call.timeoutMs ?? 10_000} ms`)));
    req.on("error", reject);
    req.end(call.body);
  });
}
