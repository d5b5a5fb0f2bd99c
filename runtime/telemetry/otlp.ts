// Optional span export as OTLP/HTTP JSON (POST {endpoint}/v1/traces). A request hands over a
// finished span and returns; spans wait in a bounded queue (full: dropped and counted) and leave
// in batches, by size or after a delay, one send at a time. Encoding happens at send time, off
// the request path. The transport is a parameter, so tests use a small in-memory receiver.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { SpanInfo } from "./trace-context.ts";

// OTLP/JSON requires enum values as integers (opentelemetry-specification#2758)
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
export const STATUS_CODE_UNSET = 0;
export const STATUS_CODE_ERROR = 2;

export type AttributeValue = string | number | boolean;

export interface FinishedSpan {
  span: SpanInfo;
  /** Envoy's operation name style: "reviews.default.svc.cluster.local:9080/*" (build once per cluster) */
  name: string;
  /** server: the inbound side of a sidecar or a gateway; client: the outbound call */
  kind: "server" | "client";
  /** ms since the epoch */
  endTime: number;
  /** 0 when no response was sent */
  statusCode: number;
  /** Envoy's span tags: http.method, http.url, upstream_cluster, response_flags, … */
  attributes: Readonly<Record<string, AttributeValue | undefined>>;
}

export interface OtlpExporterOptions {
  /** POSTs one JSON body; rejects on failure. See httpSender. */
  send: (body: string) => Promise<void>;
  clock: Clock;
  /** resource attributes: service.name at least ("istio-proxy" style or the workload name) */
  resource: Readonly<Record<string, AttributeValue>>;
  maxBatch?: number;
  /** a partial batch waits at most this long */
  flushMs?: number;
  maxQueued?: number;
  onError?: (error: unknown) => void;
}

export interface OtlpExporter {
  /** takes sampled spans only; unsampled ones are ignored at the cost of one check */
  export(span: FinishedSpan): void;
  /** sends everything queued */
  flush(): Promise<void>;
  /** spans: exported, dropped (queue full), failed (in batches given up); failedBatches: batches given up */
  stats(): { queued: number; exported: number; dropped: number; failed: number; failedBatches: number };
}

/** int64 nanoseconds as a decimal string; ms * 1e6 would pass 2^53, so the digits are joined */
export function unixNanos(ms: number): string {
  const whole = Math.floor(ms);
  const sub = Math.min(999_999, Math.round((ms - whole) * 1e6));
  return `${whole}${String(sub).padStart(6, "0")}`;
}

function attribute(key: string, value: AttributeValue) {
  if (typeof value === "string") return { key, value: { stringValue: value } };
  if (typeof value === "boolean") return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}
function attributes(values: Readonly<Record<string, AttributeValue | undefined>>) {
  const out = [];
  for (const key in values) {
    const v = values[key];
    if (v !== undefined && v !== "") out.push(attribute(key, v));
  }
  return out;
}

function encodeSpan(s: FinishedSpan) {
  // as Envoy's finalizeSpan: an error when there was no response or it was a 5xx
  const error = s.statusCode === 0 || s.statusCode >= 500;
  return {
    traceId: s.span.traceId,
    spanId: s.span.spanId,
    ...(s.span.parentSpanId ? { parentSpanId: s.span.parentSpanId } : {}),
    name: s.name,
    kind: s.kind === "server" ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT,
    startTimeUnixNano: unixNanos(s.span.startTime),
    endTimeUnixNano: unixNanos(s.endTime),
    attributes: attributes({ ...s.attributes, "http.status_code": s.statusCode, "guid:x-request-id": s.span.requestId }),
    status: { code: error ? STATUS_CODE_ERROR : STATUS_CODE_UNSET },
  };
}

/** the ExportTraceServiceRequest body for a batch */
export function encodeTraces(resource: Readonly<Record<string, AttributeValue>>, spans: readonly FinishedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: attributes(resource) }, scopeSpans: [{ scope: { name: "dietmesh" }, spans: spans.map(encodeSpan) }] }],
  });
}

export function createOtlpExporter(options: OtlpExporterOptions): OtlpExporter {
  const { send, clock, resource } = options;
  const maxBatch = options.maxBatch ?? 512;
  const flushMs = options.flushMs ?? 5_000;
  const maxQueued = options.maxQueued ?? 2_048;
  let queue: FinishedSpan[] = [];
  let timer: TimerHandle | undefined;
  /** the armed timer is the zero-delay one for a full batch */
  let soon = false;
  let sending: Promise<void> | undefined;
  let exported = 0;
  let dropped = 0;
  let failed = 0;
  let failedBatches = 0;

  async function drain(): Promise<void> {
    while (queue.length) {
      const batch = queue.length <= maxBatch ? queue : queue.splice(0, maxBatch);
      if (batch === queue) queue = [];
      try {
        await send(encodeTraces(resource, batch));
        exported += batch.length;
      } catch (error) {
        // the sender has retried what it may; a batch given up is counted, never queued again
        failed += batch.length;
        failedBatches++;
        options.onError?.(error);
      }
    }
  }
  function start(): Promise<void> {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    soon = false;
    sending ??= drain().finally(() => {
      sending = undefined;
      if (queue.length) schedule();
    });
    return sending;
  }
  function schedule(): void {
    if (sending || soon) return;
    if (queue.length >= maxBatch) {
      if (timer !== undefined) clock.clearTimeout(timer);
      soon = true;
      timer = clock.setTimeout(() => void start(), 0);
    } else if (timer === undefined) timer = clock.setTimeout(() => void start(), flushMs);
  }

  return {
    export(span) {
      if (!span.span.sampled) return;
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      queue.push(span);
      schedule();
    },
    async flush() {
      while (sending || queue.length) await (sending ?? start());
    },
    stats: () => ({ queued: queue.length, exported, dropped, failed, failedBatches }),
  };
}

export interface HttpSenderOptions {
  /** extra request headers (OTEL_EXPORTER_OTLP_HEADERS: an API key, a tenant) */
  headers?: Record<string, string>;
  /** gzip the body (Content-Encoding: gzip), as the OTLP exporters' "compression: gzip" */
  gzip?: boolean;
  /** waits between tries; the exporter's clock in production, a fake one in tests */
  sleep?: (ms: number) => Promise<void>;
  /** tries per batch, the first included (OTLP/HTTP: retry 429, 502, 503, 504 and network failures) */
  attempts?: number;
  /** the first retry's delay; doubled for each next one */
  backoffMs?: number;
  fetchImpl?: typeof fetch;
}

/** OTLP/HTTP's retryable answers (the spec's "Retryable Response Codes") */
const RETRYABLE = new Set([429, 502, 503, 504]);

async function gzipped(body: string): Promise<Uint8Array> {
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A sender for a collector's OTLP/HTTP endpoint: "http://otel-collector.observability:4318" (then
 * /v1/traces is appended), or a full traces URL ending in /v1/traces. A batch is tried again after
 * a retryable answer or a network failure, with doubling delays, then given up (counted as failed).
 */
export function httpSender(endpoint: string, options: HttpSenderOptions = {}): (body: string) => Promise<void> {
  const trimmed = endpoint.replace(/\/+$/, "");
  const url = trimmed.endsWith("/v1/traces") ? trimmed : `${trimmed}/v1/traces`;
  const fetchImpl = options.fetchImpl ?? fetch;
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 1000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const headers: Record<string, string> = { ...options.headers, "content-type": "application/json" };
  if (options.gzip) headers["content-encoding"] = "gzip";
  return async (body) => {
    const payload = options.gzip ? await gzipped(body) : body;
    let problem = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2));
      let status: number;
      try {
        const res = await fetchImpl(url, { method: "POST", headers, body: payload as BodyInit });
        await res.body?.cancel();
        if (res.ok) return;
        status = res.status;
      } catch (error) {
        problem = `OTLP export to ${url}: ${(error as Error).message}`;
        continue;
      }
      problem = `OTLP export to ${url}: HTTP ${status}`;
      if (!RETRYABLE.has(status)) break;
    }
    throw new Error(problem);
  };
}

/** "api-key=secret,tenant=a%20b" (OTEL_EXPORTER_OTLP_HEADERS) → headers; values are URL-decoded */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return out;
}
