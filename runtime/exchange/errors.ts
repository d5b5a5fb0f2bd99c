// Every way the data plane can refuse or fail a request, with a stable code. They become HTTP in
// exactly one place (local-reply.ts), as Envoy's local replies with their response flags.

export type ProxyErrorCode =
  | "no-route" // NR: no virtual host or route matched
  | "no-healthy-upstream" // UH: the cluster has no host to send to
  | "upstream-connect" // UF: connecting to the upstream failed
  | "upstream-reset" // UC: the upstream closed or reset before a response
  | "upstream-protocol" // UPE: the upstream's answer is no valid response (bad head or framing)
  | "upstream-timeout" // UT: the route or per-try timeout fired
  | "overflow" // UO: a connection-pool limit (circuit breaker) was hit
  | "fault-abort" // FI: fault injection aborted the request
  | "bad-request" // DPE: the request itself is malformed
  | "invalid-request" // a request policy cannot judge (method, path normalization): 400
  | "invalid-grpc-web" // a gRPC-Web text body that is not base64: 400
  | "unauthenticated" // RequestAuthentication refused a token: 401
  | "forbidden" // AuthorizationPolicy denied: 403
  | "upgrade-refused" // an Upgrade this listener does not carry: 403
  | "internal"; // the proxy itself failed; should not happen

export class ProxyError extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message?: string,
    /** status for fault-abort; otherwise derived from the code */
    readonly status?: number,
    /** flags earned earlier on the same request: DI for a delay, URX when retries ran out */
    readonly flags = "",
    /** extra response headers, e.g. grpc-status for a gRPC fault abort */
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? code);
  }
}
