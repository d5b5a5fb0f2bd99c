// A fetch for HTTPS servers with their own CA or client-certificate authentication: what a
// kubeconfig or an in-cluster service account needs to reach the Kubernetes API server. The two
// runtimes' fetch take TLS settings in different, partial ways (Bun's `tls` option, Deno's
// createHttpClient without client keys in every version); node:https takes ca/cert/key per request on
// both. Responses stream (a watch is one long response), with backpressure.
import { request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";
import { webStreamOf } from "./node-stream.ts";

export interface TlsClientOptions {
  /** PEM roots that verify the server (instead of the system's) */
  ca?: string;
  /** PEM client certificate and key */
  cert?: string;
  key?: string;
  insecureSkipVerify?: boolean;
  /** SNI and the name checked against the certificate, when not the URL's host */
  serverName?: string;
}

export type TlsFetch = (url: string, init?: RequestInit) => Promise<Response>;

export function createTlsFetch(options: TlsClientOptions): TlsFetch {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const req = httpsRequest(url, {
        method: init.method ?? "GET",
        headers,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: !options.insecureSkipVerify,
        servername: options.serverName,
      }, (res) => resolve(toResponse(res)));
      const signal = init.signal;
      if (signal) {
        if (signal.aborted) req.destroy(new DOMException("aborted", "AbortError"));
        signal.addEventListener("abort", () => req.destroy(new DOMException("aborted", "AbortError")), { once: true });
      }
      req.on("error", reject);
      const body = init.body;
      if (body === undefined || body === null) req.end();
      else if (typeof body === "string" || body instanceof Uint8Array) req.end(body);
      else reject(new TypeError("tls fetch: only string or Uint8Array bodies"));
    });
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const status = res.statusCode ?? 502;
  const noBody = status === 204 || status === 304;
  const body = noBody ? null : webStreamOf(res, () => new Error("connection closed mid-response"));
  return new Response(body, { status, statusText: res.statusMessage, headers });
}
