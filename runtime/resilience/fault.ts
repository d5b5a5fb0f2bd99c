// A route's fault injection (VirtualService http[].fault), compiled once: per request, one call
// says how long to delay and whether to abort. The caller sleeps, answers, and sets flags DI / FI.
import type { HTTPFaultInjection, Percent } from "../config/types.ts";
import { grpcStatusValue } from "./grpc-status.ts";

/** decide() hands out a few shared, frozen objects instead of allocating one per request */
export interface FaultDecision {
  /** 0 when this request is not delayed */
  delayMs: number;
  /** set when the request is aborted with an HTTP status */
  abortStatus?: number;
  /** set when it is aborted with a gRPC status: the grpc-status header value, e.g. "14" */
  grpcStatus?: string;
}

export interface CompiledFault {
  decide(): FaultDecision;
}

const NONE: FaultDecision = Object.freeze({ delayMs: 0 });

/**
 * The share of requests (0–100) a delay or abort applies to. `percentage.value` (a double) wins
 * over the deprecated integer `percent`; with neither, Istio translates the missing integer as 0,
 * so nothing is injected (pilot route.go translateFault → translateIntegerToFractionalPercent).
 */
export function faultShare(p: { percentage?: Percent; percent?: number }): number {
  const share = p.percentage !== undefined ? p.percentage.value : (p.percent ?? 0);
  return Number.isFinite(share) ? Math.min(100, Math.max(0, share)) : 0;
}

/** a draw that hits `share` percent of the time; draws only when the answer is in doubt */
function chance(share: number, random: () => number): () => boolean {
  if (share <= 0) return () => false;
  if (share >= 100) return () => true;
  return () => random() * 100 < share;
}

/**
 * undefined when the route injects nothing (no fault, or every share is 0), so the request path
 * can skip fault handling with one check. Throws on a grpcStatus no gRPC code has that name:
 * config is rejected at load, never per request.
 */
export function compileFault(fault: HTTPFaultInjection | undefined, random: () => number): CompiledFault | undefined {
  if (fault === undefined) return undefined;
  const delay = fault.delay;
  const abort = fault.abort;
  const delayShare = delay !== undefined && delay.fixedDelay > 0 ? faultShare(delay) : 0;
  // the schema insists on one of the two statuses; an abort with neither could only abort nothing
  const abortShare = abort !== undefined && (abort.httpStatus !== undefined || abort.grpcStatus !== undefined) ? faultShare(abort) : 0;
  if (delayShare === 0 && abortShare === 0) return undefined;

  let grpcStatus: string | undefined;
  if (abort?.grpcStatus !== undefined) {
    grpcStatus = grpcStatusValue(abort.grpcStatus);
    if (grpcStatus === undefined) throw new RangeError(`fault.abort.grpcStatus ${JSON.stringify(abort.grpcStatus)} is not a gRPC status name such as "UNAVAILABLE"`);
  }
  const delayMs = delay?.fixedDelay ?? 0;
  const delayed = chance(delayShare, random);
  const aborted = chance(abortShare, random);
  // Two independent draws, as Envoy's fault filter makes: being delayed says nothing about being
  // aborted, and a delayed request may then be aborted too.
  const withDelay: FaultDecision = Object.freeze({ delayMs });
  const status: Omit<FaultDecision, "delayMs"> =
    grpcStatus !== undefined ? { grpcStatus } : abort?.httpStatus !== undefined ? { abortStatus: abort.httpStatus } : {};
  const abortOnly: FaultDecision = Object.freeze({ delayMs: 0, ...status });
  const both: FaultDecision = Object.freeze({ delayMs, ...status });
  return {
    decide() {
      const d = delayed();
      if (!aborted()) return d ? withDelay : NONE;
      return d ? both : abortOnly;
    },
  };
}
