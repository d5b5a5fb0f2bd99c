// The one place typed errors become HTTP: Envoy's local-reply statuses and bodies, plus the
// response flag in dietmesh's own header so clients and tests can see why.
import type { ProxyError, ProxyErrorCode } from "./errors.ts";

export const FLAGS_HEADER = "x-dietmesh-response-flags";

interface Reply {
  status: number;
  flag: string;
  body: string;
}

const replies: Record<ProxyErrorCode, Reply> = {
  "no-route": { status: 404, flag: "NR", body: "" },
  "no-healthy-upstream": { status: 503, flag: "UH", body: "no healthy upstream" },
  "upstream-connect": {
    status: 503,
    flag: "UF",
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
  },
  "upstream-reset": {
    status: 503,
    flag: "UC",
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
  },
  "upstream-timeout": { status: 504, flag: "UT", body: "upstream request timeout" },
  overflow: {
    status: 503,
    flag: "UO",
    body: "upstream connect error or disconnect/reset before headers. reset reason: overflow",
  },
  "fault-abort": { status: 503, flag: "FI", body: "fault filter abort" },
  "bad-request": { status: 400, flag: "DPE", body: "Bad Request" },
  internal: { status: 500, flag: "", body: "internal error" },
};

export function flagFor(code: ProxyErrorCode): string {
  return replies[code].flag;
}

/** flags: the reply's own, after those the request earned earlier (DI, URX) */
export function localReply(error: ProxyError): Response {
  const reply = replies[error.code];
  const flags = joinFlags(error.flags, reply.flag);
  const headers: Record<string, string> = { "content-type": "text/plain", server: "dietmesh", ...error.headers };
  if (flags) headers[FLAGS_HEADER] = flags;
  return new Response(reply.body, { status: error.status ?? reply.status, headers });
}

export function joinFlags(a: string, b: string): string {
  return a && b ? `${a},${b}` : a || b;
}
