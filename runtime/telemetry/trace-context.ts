// Trace context on each hop: reads W3C traceparent/tracestate or B3 (multi-header or single), makes
// this proxy's span a child of the incoming one (same trace id, new span id, parent = incoming
// span id, sampling decision kept), and writes the result back in both W3C and B3 so apps that
// forward either set keep the trace whole. With no context, a new trace starts; ids are made even
// when unsampled so access logs can still correlate. Randomness is a parameter: tests are exact.

import { hex as hexOf } from "../platform/http1/bytes.ts";
import { HeaderList } from "../exchange/header-list.ts";

/** fills the array with random bytes; production: cryptoFill (crypto.getRandomValues) */
export type FillRandom = (bytes: Uint8Array) => void;
export const cryptoFill: FillRandom = (bytes) => void crypto.getRandomValues(bytes);

/**
 * cryptoFill from a pool: the system's random bytes drawn 4 KiB at a time, so a request's 28 bytes
 * cost a copy rather than a call into the runtime (that call and the hex were ~3 % of a sidecar's
 * time). Same source, same quality; ids are never reused (each byte is handed out once).
 */
export function pooledCryptoFill(size = 4096): FillRandom {
  const pool = new Uint8Array(size);
  let at = size;
  return (bytes) => {
    if (bytes.byteLength > size) return cryptoFill(bytes);
    if (at + bytes.byteLength > size) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    // a byte loop, not set(subarray()): a view made per request cost more than the 28 bytes' copy
    for (let i = 0; i < bytes.byteLength; i++) bytes[i] = pool[at + i];
    at += bytes.byteLength;
  };
}

export interface SpanInfo {
  /** 32 lower-case hex digits (a 64-bit B3 id is left-padded with zeros) */
  traceId: string;
  /** this proxy's span: 16 hex digits */
  spanId: string;
  /** the incoming span id; undefined when this proxy started the trace */
  parentSpanId?: string;
  sampled: boolean;
  /** ms since the epoch, from the clock given to the tracer */
  startTime: number;
  requestId: string;
}

export interface IncomingContext {
  traceId: string;
  /** undefined for a B3 header that carries only a sampling decision */
  spanId?: string;
  /** undefined: the caller left the decision to us (B3 allows it) */
  sampled?: boolean;
  debug?: boolean;
  /** B3 64-bit trace ids are written back in their own length */
  b3TraceIdLength?: 16 | 32;
}


/** s[from, from+length) is hex (lower case only unless `upper`) and, when `nonZero`, not all zeros */
function hexRange(s: string, from: number, length: number, nonZero: boolean, upper = false): boolean {
  if (s.length < from + length) return false;
  let zero = true;
  for (let i = from; i < from + length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (upper && c >= 65 && c <= 70))) return false;
    if (c !== 48) zero = false;
  }
  return !(nonZero && zero); // all-zero ids are invalid in W3C and B3 alike
}
const isHex = (s: string, length: number, upper = false) => s.length === length && hexRange(s, 0, length, true, upper);

/**
 * W3C Trace Context level 1 §3.2: version 2 hex digits, not ff; for 00 exactly 55 characters;
 * later versions may append fields after a "-". Hex must be lower case; ids must not be zero.
 * Character checks rather than regexes or slices first: this runs on every request.
 */
export function parseTraceparent(value: string | null): IncomingContext | undefined {
  if (!value || !validTraceparent(value)) return undefined;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), sampled: sampledFlag(value) };
}
function validTraceparent(value: string): boolean {
  if (value.length < 55 || !hexRange(value, 0, 2, false) || (value[0] === "f" && value[1] === "f")) return false;
  if (value[0] === "0" && value[1] === "0" ? value.length !== 55 : value.length > 55 && value[55] !== "-") return false;
  if (value[2] !== "-" || value[35] !== "-" || value[52] !== "-") return false;
  return hexRange(value, 3, 32, true) && hexRange(value, 36, 16, true) && hexRange(value, 53, 2, false);
}
/** a valid traceparent's "sampled" bit: the flags' low nibble holds it (bit 0) */
function sampledFlag(value: string): boolean {
  const low = value.charCodeAt(54);
  return ((low <= 57 ? low - 48 : low - 87) & 1) === 1;
}

/** tracestate is passed on unchanged, but only when it is within the spec's limits */
export function validTracestate(value: string | null): value is string {
  if (!value || value.length > 512 || !/^[\x20-\x7e]*$/.test(value)) return false;
  const members = value.split(",").filter((m) => m.trim());
  return members.length > 0 && members.length <= 32 && members.every((m) => m.includes("="));
}

function b3Trace(id: string | null): { traceId: string; b3TraceIdLength: 16 | 32 } | undefined {
  if (!id) return undefined;
  const lower = isHex(id, id.length, true) ? id.toLowerCase() : "";
  if (lower.length === 32) return { traceId: lower, b3TraceIdLength: 32 };
  if (lower.length === 16) return { traceId: "0000000000000000" + lower, b3TraceIdLength: 16 };
  return undefined;
}
const b3Sampled = (s: string | null | undefined) => (s === "1" || s === "true" || s === "d" ? true : s === "0" || s === "false" ? false : undefined);

/** b3: {traceid}-{spanid}[-{1|0|d}[-{parentspanid}]], or only the sampling state ("0", "1", "d") */
export function parseB3Single(value: string | null): IncomingContext | undefined {
  if (!value) return undefined;
  const parts = value.trim().split("-");
  if (parts.length === 1) {
    const sampled = b3Sampled(parts[0]);
    return sampled === undefined ? undefined : { traceId: "", sampled, debug: parts[0] === "d" };
  }
  const trace = b3Trace(parts[0]);
  const spanId = parts[1].toLowerCase();
  if (!trace || !isHex(spanId, 16) || parts.length > 4) return undefined;
  if (parts.length >= 3 && b3Sampled(parts[2]) === undefined) return undefined;
  return { ...trace, spanId, sampled: b3Sampled(parts[2]), debug: parts[2] === "d" };
}

export function parseB3Multi(headers: Headers): IncomingContext | undefined {
  const debug = headers.get("x-b3-flags") === "1";
  const sampled = debug ? true : b3Sampled(headers.get("x-b3-sampled"));
  const trace = b3Trace(headers.get("x-b3-traceid"));
  const spanId = headers.get("x-b3-spanid")?.toLowerCase();
  if (trace && spanId && isHex(spanId, 16)) return { ...trace, spanId, sampled, debug };
  return sampled === undefined ? undefined : { traceId: "", sampled, debug };
}

export interface TracerOptions {
  random?: FillRandom;
  /** 0..100: share of new traces sampled (Istio's default meshConfig tracing sampling is 1 %) */
  samplingPercent?: number;
  /** ms since the epoch */
  now: () => number;
  newRequestId?: () => string;
}
export interface Tracer {
  /** reads the incoming context from the outgoing copy of the headers and rewrites it there */
  propagate(headers: Headers): SpanInfo;
  /** the share of new traces sampled from now on, 0–100 (a Telemetry resource's randomSamplingPercentage) */
  setSamplingPercent?(percent: number): void;
}

/** any field propagate reads or rewrites besides x-request-id: traceparent, tracestate, b3, x-b3-* */
function carriesContext(names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const c = name.charCodeAt(0);
    if (c === 116 /* t */ ? name === "traceparent" || name === "tracestate" : c === 98 /* b */ ? name === "b3" : c === 120 /* x */ && name.startsWith("x-b3-")) return true;
  }
  return false;
}

/**
 * Whether the request's trace context says "sampled", read as propagate reads it (W3C first, then
 * single b3, then x-b3-*). False with no context, or one that leaves the decision to this proxy.
 * Nothing is allocated for a request with no context or a traceparent (the inbound side asks this
 * of every request, and nearly all are unsampled).
 */
export function incomingSampled(headers: Headers): boolean {
  if (headers instanceof HeaderList && !carriesContext(headers.fieldNames)) return false;
  const traceparent = headers.get("traceparent");
  if (traceparent !== null && validTraceparent(traceparent)) return sampledFlag(traceparent);
  const single = parseB3Single(headers.get("b3"));
  if (single) return single.sampled === true;
  return headers.get("x-b3-flags") === "1" || b3Sampled(headers.get("x-b3-sampled")) === true;
}

export function createTracer(options: TracerOptions): Tracer {
  const fill = options.random ?? pooledCryptoFill();
  let threshold = Math.max(0, Math.min(100, options.samplingPercent ?? 1)) / 100;
  const newRequestId = options.newRequestId ?? (() => crypto.randomUUID());
  // one draw per request: bytes 0-15 a trace id, 16-23 the span id, 24-27 the sampling roll
  const scratch = new Uint8Array(28);

  /** scratch[from, to) as lower-case hex */
  const hex = (from: number, to: number) => hexOf(scratch, from, to);
  function zero(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (scratch[i]) return false;
    return true;
  }
  function draw(): void {
    do fill(scratch);
    while (zero(0, 16) || zero(16, 24)); // 2^-64: practically never, but ids must not be zero
  }
  function sample(): boolean {
    if (threshold >= 1) return true;
    if (threshold <= 0) return false;
    return ((scratch[24] << 24) | (scratch[25] << 16) | (scratch[26] << 8) | scratch[27]) >>> 0 < threshold * 2 ** 32;
  }

  /**
   * A request that carries no trace context (the usual one at a gateway): a new trace, whose five
   * fields are added as they are, with no parse and no set/delete each scanning the list. The
   * fields and their order are those the general path below writes for such a request.
   */
  function start(headers: HeaderList): SpanInfo {
    draw();
    // both ids from one native hex call (a call per id was ~2 % of a gateway's profile)
    const ids = hex(0, 24);
    const traceId = ids.slice(0, 32);
    const spanId = ids.slice(32);
    const sampled = sample();
    let requestId = headers.get("x-request-id");
    if (requestId === null) headers.append("x-request-id", (requestId = newRequestId())); // checked: the id maker is a parameter
    else if (!requestId) headers.set("x-request-id", (requestId = newRequestId()));
    headers.add("traceparent", "00-" + traceId + "-" + spanId + (sampled ? "-01" : "-00"));
    headers.add("x-b3-traceid", traceId);
    headers.add("x-b3-spanid", spanId);
    headers.add("x-b3-sampled", sampled ? "1" : "0");
    return { traceId, spanId, parentSpanId: undefined, sampled, startTime: options.now(), requestId };
  }

  return {
    setSamplingPercent(percent) {
      threshold = Math.max(0, Math.min(100, percent)) / 100;
    },
    propagate(headers) {
      if (headers instanceof HeaderList && !carriesContext(headers.fieldNames)) return start(headers);
      // W3C first: it is the standard, and the one both formats are rewritten from when they differ
      const w3c = parseTraceparent(headers.get("traceparent"));
      const single = headers.get("b3");
      const incoming = w3c ?? parseB3Single(single) ?? parseB3Multi(headers);
      const joined = incoming?.spanId !== undefined;
      draw();
      const traceId = joined ? incoming!.traceId : hex(0, 16);
      const spanId = hex(16, 24);
      const sampled = incoming?.sampled ?? sample();
      let requestId = headers.get("x-request-id");
      if (!requestId) headers.set("x-request-id", (requestId = newRequestId()));

      const tracestate = headers.get("tracestate");
      if (!w3c || !validTracestate(tracestate)) headers.delete("tracestate");
      headers.set("traceparent", `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`);
      const b3Trace = incoming?.b3TraceIdLength === 16 && joined ? traceId.slice(16) : traceId;
      headers.set("x-b3-traceid", b3Trace);
      headers.set("x-b3-spanid", spanId);
      if (joined) headers.set("x-b3-parentspanid", incoming!.spanId!);
      else headers.delete("x-b3-parentspanid");
      // B3: debug implies sampled and is sent instead of x-b3-sampled
      if (incoming?.debug) {
        headers.set("x-b3-flags", "1");
        headers.delete("x-b3-sampled");
      } else {
        headers.delete("x-b3-flags");
        headers.set("x-b3-sampled", sampled ? "1" : "0");
      }
      if (single !== null) {
        const state = incoming?.debug ? "d" : sampled ? "1" : "0";
        headers.set("b3", `${b3Trace}-${spanId}-${state}${joined ? `-${incoming!.spanId}` : ""}`);
      }
      return { traceId, spanId, parentSpanId: joined ? incoming!.spanId : undefined, sampled, startTime: options.now(), requestId };
    },
  };
}
