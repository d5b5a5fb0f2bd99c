// The one classifier of upstream failures: how a failed try counts for the retry policy, for the
// outlier detector, and which local reply (and response flag) it becomes. Every listener uses it,
// so a connect timeout is UF everywhere, as in Envoy (a connect timeout is a connection failure).
import { UpstreamError } from "../platform/types.ts";
import type { AttemptOutcome } from "../resilience/retry-policy.ts";
import type { LocalOriginFailure } from "../resilience/outlier-detector.ts";
import type { ProxyErrorCode } from "../exchange/errors.ts";

export interface FailureClass {
  outcome: AttemptOutcome;
  /** what the outlier detector records (overflow: nothing, the host was never tried) */
  local?: LocalOriginFailure;
  code: ProxyErrorCode;
}

const OVERFLOW: FailureClass = Object.freeze<FailureClass>({ outcome: { kind: "overflow" }, code: "overflow" });
const CONNECT: FailureClass = Object.freeze<FailureClass>({ outcome: { kind: "connect-failure" }, local: "connect-failure", code: "upstream-connect" });
const TIMEOUT: FailureClass = Object.freeze<FailureClass>({ outcome: { kind: "timeout" }, local: "timeout", code: "upstream-timeout" });
const RESET: FailureClass = Object.freeze<FailureClass>({ outcome: { kind: "reset" }, local: "reset", code: "upstream-reset" });
// Envoy retries a protocol error as any reset (retryOn reset, 5xx, gateway-error) and records it
// for outlier detection as a local-origin failure like a reset: a 5xx and a gateway failure
const PROTOCOL: FailureClass = Object.freeze<FailureClass>({ outcome: { kind: "reset" }, local: "reset", code: "upstream-protocol" });

/** rethrows what is not an UpstreamError: a bug is not an upstream failure */
export function classifyFailure(error: unknown): FailureClass {
  if (!(error instanceof UpstreamError)) throw error;
  switch (error.failure) {
    case "overflow":
      return OVERFLOW;
    case "connect":
    case "connect-timeout":
      return CONNECT;
    case "aborted":
      return TIMEOUT;
    case "protocol":
      return PROTOCOL;
    default:
      return RESET;
  }
}
