// The one place typed errors become HTTP, for every listener and filter: Envoy's local-reply
// statuses, bodies and response-code details, and the response flag. Within a filter chain the
// flag and details go on the request record (the edge renders the flags header once); a reply
// made before any chain (a request the parser refused, a listener failure) carries the header itself.
import type { ProxyError, ProxyErrorCode } from "./errors.ts";
import type { RequestRecord } from "./record.ts";
import { responseOfBytes } from "./known-body.ts";
import type { HttpResponse } from "./types.ts";
import { MeshResponse } from "./response.ts";

export const FLAGS_HEADER = "x-dietmesh-response-flags";

interface Reply {
  status: number;
  flag: string;
  body: string;
  /** Envoy's %RESPONSE_CODE_DETAILS% */
  details: string;
}

const replies: Record<ProxyErrorCode, Reply> = {
  "no-route": { status: 404, flag: "NR", body: "", details: "route_not_found" },
  "no-healthy-upstream": { status: 503, flag: "UH", body: "no healthy upstream", details: "no_healthy_upstream" },
  "upstream-connect": {
    status: 503,
    flag: "UF",
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
    details: "upstream_reset_before_response_started{connection_failure}",
  },
  "upstream-reset": {
    status: 503,
    flag: "UC",
    body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    details: "upstream_reset_before_response_started{connection_termination}",
  },
  // Envoy answers a protocol error 502, every other reset 503; the details name the reset reason
  "upstream-protocol": {
    status: 502,
    flag: "UPE",
    body: "upstream connect error or disconnect/reset before headers. reset reason: protocol error",
    details: "upstream_reset_before_response_started{protocol_error}",
  },
  "upstream-timeout": { status: 504, flag: "UT", body: "upstream request timeout", details: "upstream_response_timeout" },
  overflow: {
    status: 503,
    flag: "UO",
    body: "upstream connect error or disconnect/reset before headers. reset reason: overflow",
    details: "upstream_reset_before_response_started{overflow}",
  },
  "fault-abort": { status: 503, flag: "FI", body: "fault filter abort", details: "fault_filter_abort" },
  "bad-request": { status: 400, flag: "DPE", body: "Bad Request", details: "http1.codec_error" },
  unauthenticated: { status: 401, flag: "", body: "Jwt verification fails", details: "jwt_authn_access_denied{Jwt_verification_fails}" },
  forbidden: { status: 403, flag: "", body: "RBAC: access denied", details: "rbac_access_denied_matched_policy[none]" },
  "upgrade-refused": { status: 403, flag: "", body: "", details: "upgrade_failed" },
  "invalid-request": { status: 400, flag: "", body: "Bad Request", details: "path_normalization_failed" },
  // the details say which check failed: grpc_base_64_decode_failed (a character) or …_bad_size (the length)
  "invalid-grpc-web": { status: 400, flag: "", body: "Bad gRPC-web request, invalid base64 data.", details: "grpc_base_64_decode_failed" },
  internal: { status: 500, flag: "", body: "internal error", details: "internal_error" },
};

export function flagFor(code: ProxyErrorCode): string {
  return replies[code].flag;
}

/**
 * The reply for error. Its flag goes after those the request earned earlier (DI, URX): on the
 * record when there is one, else (a reply made before any chain) in the flags header.
 */
export function localReply(error: ProxyError, record?: RequestRecord): Response {
  const reply = replies[error.code];
  const headers: Record<string, string> = { "content-type": "text/plain", server: "dietmesh", ...error.headers };
  if (record) {
    if (error.flags) for (const flag of error.flags.split(",")) record.addFlag(flag);
    record.addFlag(reply.flag);
    record.details = reply.details;
  } else {
    const flags = joinFlags(error.flags, reply.flag);
    if (flags) headers[FLAGS_HEADER] = flags;
  }
  const response = responseOfBytes(encoder.encode(reply.body), { status: error.status ?? reply.status, headers });
  localReplies.set(response, reply.body);
  return response;
}

/** local replies made here, with their body text: a gRPC request gets them in gRPC form */
const localReplies = new WeakMap<object, string>();

// Envoy's HTTP → gRPC status mapping for local replies; anything else is UNKNOWN (2)
const GRPC_STATUS_FOR_HTTP: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };

/**
 * A local reply as a gRPC client must get it: HTTP 200, the error in grpc-status and grpc-message
 * of a trailers-only response (a gRPC client ignores the HTTP status and body). A status a filter
 * chose (a fault's abort.grpcStatus in the headers) stays. Any other response is returned as is.
 */
export function grpcLocalReply(response: HttpResponse): HttpResponse {
  const message = localReplies.get(response);
  if (message === undefined) return response;
  const headers = new Headers(response.headers);
  headers.set("content-type", "application/grpc");
  headers.delete("content-length");
  if (!headers.has("grpc-status")) headers.set("grpc-status", String(grpcStatusForHttp(response.status)));
  if (message && !headers.has("grpc-message")) headers.set("grpc-message", grpcMessageOf(message));
  void response.body?.cancel().catch(() => {});
  return new MeshResponse(200, "OK", headers, null);
}

/** Envoy's HTTP → gRPC status mapping (also what a gRPC response without grpc-status counts as) */
export function grpcStatusForHttp(status: number): number {
  return GRPC_STATUS_FOR_HTTP[status] ?? 2;
}

/**
 * The grpc-status a gRPC client gets for response when it is a local reply (grpcLocalReply's
 * choice, for metrics and logs that see the reply before it is put in gRPC form); undefined for
 * any other response.
 */
export function grpcStatusOfLocalReply(response: HttpResponse): number | undefined {
  if (!localReplies.has(response)) return undefined;
  const chosen = Number(response.headers.get("grpc-status") ?? NaN);
  return Number.isInteger(chosen) ? chosen : grpcStatusForHttp(response.status);
}

/** gRPC's percent-encoding of grpc-message: bytes outside printable ASCII, and "%" */
export function grpcMessageOf(text: string | Uint8Array): string {
  let out = "";
  for (const byte of typeof text === "string" ? encoder.encode(text) : text) out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

const encoder = new TextEncoder();

export function detailsFor(code: ProxyErrorCode): string {
  return replies[code].details;
}

export function joinFlags(a: string, b: string): string {
  return a && b ? `${a},${b}` : a || b;
}
