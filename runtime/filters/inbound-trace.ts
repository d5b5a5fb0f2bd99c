// The inbound side's span, as Envoy's inbound listener makes it: a request that arrives with a
// sampled trace context (traceparent or B3) gets this proxy's own span — same trace id, a new span
// id, the caller's span as parent — which the observer exports as the server span. The headers to
// the app are rewritten with it, as Envoy's inbound does, so the app's own spans are children of the
// server span. Unsampled requests and those without a context pass unchanged, at the cost of one
// scan of the header names: spans are only made for traces that are exported.
import { incomingSampled, type Tracer } from "../telemetry/trace-context.ts";
import type { Filter } from "./chain.ts";

export function inboundTraceFilter(tracer: Tracer): Filter {
  return function inboundTrace(exchange) {
    const headers = exchange.facts.headers;
    if (!incomingSampled(headers)) return undefined;
    const span = tracer.propagate(headers);
    exchange.record.span = span;
    exchange.record.requestId = span.requestId;
    return undefined;
  };
}
