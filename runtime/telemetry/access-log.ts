// Access log lines as Istio's sidecars print them: JSON with the keys of Istio's default JSON
// format (pilot/pkg/model/telemetry_logging.go EnvoyJSONLogFormatIstio), Istio's default TEXT
// format (EnvoyTextLogFormat there), or Envoy's own default format string. A request only fills
// an AccessLogEntry; formatting happens when the writer flushes, off the request path.

/** What one finished request leaves for the log. Strings absent → "-" (TEXT) or null (JSON). */
export interface AccessLogEntry {
  /** ms since the epoch, when the request arrived */
  startTime: number;
  method: string;
  /** the path as the client sent it, query included: before any rewrite (X-ENVOY-ORIGINAL-PATH) */
  path: string;
  /** "HTTP/1.1", "HTTP/2" */
  protocol: string;
  /** 0 when no response was sent */
  responseCode: number;
  /** a gRPC call's status (trailers, a trailers-only head, or the HTTP status mapped); absent for other requests */
  grpcStatus?: number;
  /** Envoy short flags joined by commas, "" when none */
  responseFlags: string;
  /** Envoy's %RESPONSE_CODE_DETAILS%: "via_upstream", "route_not_found", … */
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  /** body bytes received from the client */
  bytesReceived: number;
  /** body bytes sent to the client */
  bytesSent: number;
  /** ms from start to the last byte sent */
  durationMs: number;
  /** Envoy's x-envoy-upstream-service-time: ms from the upstream request's start to its response head */
  upstreamServiceTime?: number;
  xForwardedFor?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  /** "10.0.0.7:8080" */
  upstreamHost?: string;
  /** "outbound|9080|v1|reviews.default.svc.cluster.local" */
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
}

export type AccessLogEncoding = "JSON" | "TEXT" | "ENVOY";

// Control characters would let a request value end the line or forge a new one; quotes and
// backslashes would let it end a quoted field. All are escaped in the TEXT formats (Envoy itself
// writes them raw; HTTP parsers refuse CR/LF in headers, but not every value comes from one).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]/;
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]/g;
function escapeChar(c: string): string {
  if (c === '"' || c === "\\") return `\\${c}`;
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  const code = c.charCodeAt(0);
  return code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`;
}
/** one field of a TEXT line: "-" when unset or empty, as Envoy writes */
/** a TCP connection's line: Istio writes the HTTP-only fields empty (method, path, protocol) and code 0 */
export function connectionEntry(e: Omit<AccessLogEntry, "method" | "path" | "protocol" | "responseCode">): AccessLogEntry {
  return { method: "", path: "", protocol: "", responseCode: 0, ...e };
}

export function textField(value: string | undefined): string {
  if (!value) return "-";
  return UNSAFE.test(value) ? value.replace(UNSAFE_ALL, escapeChar) : value;
}

/** Envoy's %START_TIME%: ISO 8601 in UTC with milliseconds */
export function startTime(ms: number): string {
  return new Date(ms).toISOString();
}
/** Envoy's %DURATION% is whole milliseconds, truncated */
const wholeMs = (ms: number) => Math.max(0, Math.floor(ms));
const flags = (f: string) => f || "-";
/** whole ms as the header carries it; absent when no upstream answered */
const serviceTime = (ms: number | undefined) => (ms === undefined ? undefined : String(wholeMs(ms)));

/**
 * Istio's default TEXT line:
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 * "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 * %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 * "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER%
 * %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
 * %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 */
export function formatText(e: AccessLogEntry): string {
  const t = textField;
  return (
    `[${startTime(e.startTime)}] "${t(e.method)} ${t(e.path)} ${t(e.protocol)}" ${e.responseCode} ${t(flags(e.responseFlags))} ` +
    `${t(e.responseCodeDetails)} ${t(e.connectionTerminationDetails)} "${t(e.upstreamTransportFailureReason)}" ` +
    `${e.bytesReceived} ${e.bytesSent} ${wholeMs(e.durationMs)} ${t(serviceTime(e.upstreamServiceTime))} "${t(e.xForwardedFor)}" ` +
    `"${t(e.userAgent)}" "${t(e.requestId)}" "${t(e.authority)}" "${t(e.upstreamHost)}" ${t(e.upstreamCluster)} ` +
    `${t(e.upstreamLocalAddress)} ${t(e.downstreamLocalAddress)} ${t(e.downstreamRemoteAddress)} ` +
    `${t(e.requestedServerName)} ${t(e.routeName)}`
  );
}

/**
 * Envoy's default format string (envoyproxy.io, configuration/observability/access_log):
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 */
export function formatEnvoyText(e: AccessLogEntry): string {
  const t = textField;
  return (
    `[${startTime(e.startTime)}] "${t(e.method)} ${t(e.path)} ${t(e.protocol)}" ${e.responseCode} ${t(flags(e.responseFlags))} ` +
    `${e.bytesReceived} ${e.bytesSent} ${wholeMs(e.durationMs)} ${t(serviceTime(e.upstreamServiceTime))} "${t(e.xForwardedFor)}" ` +
    `"${t(e.userAgent)}" "${t(e.requestId)}" "${t(e.authority)}" "${t(e.upstreamHost)}"`
  );
}

const orNull = (v: string | undefined) => (v ? v : null);

// Envoy's %GRPC_STATUS% in its default form (CAMEL_STRING); a code past the list prints as its number
const GRPC_NAMES = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];
export function grpcStatusName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : (GRPC_NAMES[code] ?? String(code));
}
const JSON_RAW = /[\u007f-\u009f\u2028\u2029]/;
const JSON_RAW_ALL = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * Istio's default JSON line. Keys in the order Envoy prints them (sorted, as a protobuf Struct);
 * numbers stay numbers, unset values are null, response_flags is "-" when none — as a sidecar
 * with accessLogEncoding: JSON writes — plus grpc_status (Envoy's %GRPC_STATUS%, null when the
 * request is not gRPC), which Istio's format lacks and its TEXT line keeps lacking (a field more
 * would break parsers of that line). JSON.stringify escapes C0 controls;
 * the rest that could split a line are escaped below.
 */
export function formatJson(e: AccessLogEntry): string {
  const line = JSON.stringify({
    authority: orNull(e.authority),
    bytes_received: e.bytesReceived,
    bytes_sent: e.bytesSent,
    connection_termination_details: orNull(e.connectionTerminationDetails),
    downstream_local_address: orNull(e.downstreamLocalAddress),
    downstream_remote_address: orNull(e.downstreamRemoteAddress),
    duration: wholeMs(e.durationMs),
    grpc_status: orNull(grpcStatusName(e.grpcStatus)),
    method: orNull(e.method),
    path: orNull(e.path),
    protocol: orNull(e.protocol),
    request_id: orNull(e.requestId),
    requested_server_name: orNull(e.requestedServerName),
    response_code: e.responseCode,
    response_code_details: orNull(e.responseCodeDetails),
    response_flags: flags(e.responseFlags),
    route_name: orNull(e.routeName),
    start_time: startTime(e.startTime),
    upstream_cluster: orNull(e.upstreamCluster),
    upstream_host: orNull(e.upstreamHost),
    upstream_local_address: orNull(e.upstreamLocalAddress),
    upstream_service_time: orNull(serviceTime(e.upstreamServiceTime)),
    upstream_transport_failure_reason: orNull(e.upstreamTransportFailureReason),
    user_agent: orNull(e.userAgent),
    x_forwarded_for: orNull(e.xForwardedFor),
  });
  // JSON.stringify leaves DEL, C1 controls (NEL) and U+2028/2029 raw; some readers split lines on them
  return JSON_RAW.test(line) ? line.replace(JSON_RAW_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : line;
}

export function formatterFor(encoding: AccessLogEncoding): (e: AccessLogEntry) => string {
  return encoding === "JSON" ? formatJson : encoding === "ENVOY" ? formatEnvoyText : formatText;
}
