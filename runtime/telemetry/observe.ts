// What a listener reports once a request is answered, read from the request record: Istio's
// request metrics, when enabled an access-log entry, and a sampled span (client on the source
// side, server on the destination side) when spans are exported. Recorded when the response head
// is ready (duration to headers, bytes from content-length), so the body still passes straight
// through the runtime's fast path. A gRPC call's status usually comes in the trailers: then it is
// recorded once they have arrived (as Envoy's stats and logs, written at the stream's end); a
// trailers-only response has it in its head, and a response with neither counts as its HTTP status
// mapped (Envoy's getGrpcStatus).
import type { Cluster } from "../model/route-table.ts";
import type { UpstreamHost } from "../resilience/balancers/host-set.ts";
import type { ConnInfo } from "../platform/types.ts";
import type { IstioMetrics } from "./istio-metrics.ts";
import { peerFromEndpoint, serviceInfo, UNKNOWN_PEER, type ServiceInfo } from "./workload-info.ts";
import type { AccessLogWriter } from "./access-log-writer.ts";
import type { RequestRecord } from "../exchange/record.ts";
import type { SpanInfo } from "./trace-context.ts";
import type { OtlpExporter } from "./otlp.ts";
import type { HttpRequest } from "../exchange/types.ts";
import type { HttpResponse } from "../exchange/types.ts";
import { isGrpc } from "../exchange/http2/fields.ts";
import { grpcStatusForHttp, grpcStatusOfLocalReply } from "../exchange/local-reply.ts";
import { knownBody } from "../exchange/known-body.ts";
import { addressKey } from "../upstream/upstream-tls.ts";

export type { RequestRecord };

export interface Observer {
  observe(request: HttpRequest, path: string, conn: ConnInfo, record: RequestRecord, response: HttpResponse, startMs: number): void;
  /** sampled spans are exported (an OTLP endpoint is configured): only then does the inbound side make server spans */
  readonly exportsSpans?: boolean;
}

/** a request no route took: one fixed label set, so arbitrary Host headers cannot add series */
const UNKNOWN_SERVICE: ServiceInfo = Object.freeze({ host: "unknown", name: "unknown", namespace: "unknown" });

function contentLength(headers: Headers): number {
  const v = headers.get("content-length");
  return v ? Number(v) || 0 : 0;
}

/** a response's body size: its Content-Length, or a body held whole without one (a local reply, whose length the server writes) */
function responseLength(response: HttpResponse): number {
  const v = response.headers.get("content-length");
  if (v) return Number(v) || 0;
  return knownBody(response)?.byteLength ?? 0;
}

export function createObserver(options: {
  reporter: "source" | "destination";
  metrics: IstioMetrics;
  /** for the destination reporter: the service this workload serves, when known */
  localService?: ServiceInfo;
  /** for the destination reporter: the registry's service the request's Host names (local-service.ts) */
  localServiceFor?: (authority: string) => ServiceInfo | undefined;
  accessLog?: () => AccessLogWriter | undefined;
  /** sampled spans go here (OTLP/HTTP), when an endpoint is configured */
  spans?: OtlpExporter;
  /** whether spans are reported now (a Telemetry resource's disableSpanReporting turns it off); default always */
  reportSpans?: () => boolean;
  /** for the destination reporter: the app's port, which server spans name (Istio's inbound operation "host:port/*"; none for an in-process app) */
  port?: number;
  now?: () => number;
}): Observer {
  const now = options.now ?? Date.now;
  // server span names, one per service (ServiceInfo objects are made once per service)
  const operations = new WeakMap<ServiceInfo, string>();
  const operation = (service: ServiceInfo) => {
    let name = operations.get(service);
    if (name === undefined) operations.set(service, (name = options.port ? `${service.host}:${options.port}/*` : `${service.host}/*`));
    return name;
  };
  /** the destination side's app cluster, Istio's inbound|<port>|| (the library's in-process app has no port: none) */
  const inboundCluster = options.reporter === "destination" && options.port ? `inbound|${options.port}||` : undefined;
  const observer: Observer = {
    exportsSpans: options.spans !== undefined,
    observe(request, path, conn, record, response, startMs) {
      if (!isGrpc(request.headers)) return report(request, path, conn, record, response, startMs, response.status, undefined);
      // a local reply reaches a gRPC client as HTTP 200 with its grpc-status (grpcLocalReply)
      const local = grpcStatusOfLocalReply(response);
      if (local !== undefined) return report(request, path, conn, record, response, startMs, 200, local);
      const inHead = grpcStatusOf(response.headers);
      if (inHead !== undefined || !response.trailers) return report(request, path, conn, record, response, startMs, response.status, inHead ?? grpcStatusForHttp(response.status));
      const fallback = grpcStatusForHttp(response.status);
      const head = now(); // the upstream service time ends at the head, not at the trailers
      response.trailers.then(
        (trailers) => report(request, path, conn, record, response, startMs, response.status, (trailers && grpcStatusOf(trailers)) ?? fallback, head),
        () => report(request, path, conn, record, response, startMs, response.status, fallback, head),
      );
    },
  };

  /** head: when the response head was ready, if earlier than now (a gRPC call reported at its trailers) */
  function report(request: HttpRequest, path: string, conn: ConnInfo, record: RequestRecord, response: HttpResponse, startMs: number, code: number, grpcStatus: number | undefined, head?: number): void {
    const end = now();
    // what this hop did, from its record (never a flags header an upstream sent)
    const flags = record.flagText;
    const service = record.cluster ? serviceInfo(record.cluster.service) : (options.localServiceFor?.(request.headers.get("host") ?? "") ?? options.localService ?? UNKNOWN_SERVICE);
    const peer = options.reporter === "source" ? (record.upstreamPeer ?? (record.host ? peerFromEndpoint(record.host.endpoint) : UNKNOWN_PEER)) : (record.peer ?? UNKNOWN_PEER);
    const grpc = grpcStatus !== undefined;
    const requestBytes = contentLength(request.headers);
    // a gRPC client gets a local reply trailers-only, without its text body
    const responseBytes = grpc ? contentLength(response.headers) : responseLength(response);
    options.metrics
      .seriesFor({ reporter: options.reporter, peer, service, code, flags, protocol: grpc ? "grpc" : "http", grpcStatus, security: options.reporter === "destination" ? (conn.peer ? "mutual_tls" : "none") : "unknown" })
      .observe(end - startMs, requestBytes, responseBytes);
    const span = record.span;
    if (span?.sampled && options.spans && (options.reportSpans?.() ?? true)) {
      options.spans.export({
        span,
        name: record.cluster ? `${record.cluster.service.hostname}:${record.cluster.port.number}/*` : options.reporter === "destination" ? operation(service) : "unknown",
        kind: options.reporter === "source" ? "client" : "server",
        endTime: end,
        statusCode: code,
        attributes: {
          "http.method": request.method,
          "http.url": path,
          "http.status_code": code,
          upstream_cluster: record.cluster?.name ?? record.app?.cluster,
          response_flags: flags || "-",
        },
      });
    }
    const log = options.accessLog?.();
    if (!log) return;
    log.log({
      startTime: startMs,
      method: request.method,
      path,
      protocol: request.protocol === "h2" ? "HTTP/2" : "HTTP/1.1",
      responseCode: code,
      grpcStatus,
      responseFlags: flags,
      responseCodeDetails: record.details || "via_upstream",
      upstreamTransportFailureReason: record.transportFailureReason,
      bytesReceived: requestBytes,
      bytesSent: responseBytes,
      durationMs: end - startMs,
      // Envoy's x-envoy-upstream-service-time: the upstream request's start to its response head
      upstreamServiceTime: record.upstreamStartMs === undefined ? undefined : (head ?? end) - record.upstreamStartMs,
      xForwardedFor: request.headers.get("x-forwarded-for") ?? undefined,
      userAgent: request.headers.get("user-agent") ?? undefined,
      requestId: record.requestId ?? request.headers.get("x-request-id") ?? undefined,
      authority: request.headers.get("host") ?? undefined,
      upstreamHost: record.host?.address ?? record.app?.address,
      // inbound, a request answered before the app (400, 403) is still logged on the app's cluster
      // and route, as Envoy's inbound listener logs it (with no upstream host)
      upstreamCluster: record.cluster?.name ?? record.app?.cluster ?? inboundCluster,
      routeName: record.routeName ?? record.app?.routeName ?? (inboundCluster && "default"),
      downstreamRemoteAddress: addressKey(conn.remoteAddress, conn.remotePort),
      downstreamLocalAddress: conn.localAddress ? addressKey(conn.localAddress, conn.localPort ?? 0) : undefined,
      requestedServerName: conn.sni,
    });
  }

  return observer;
}

/** a grpc-status field as a number; undefined when absent or not a number */
function grpcStatusOf(headers: Headers): number | undefined {
  const value = headers.get("grpc-status");
  if (value === null) return undefined;
  const n = Number(value.trim());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}
