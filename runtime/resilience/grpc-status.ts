// gRPC status codes by the names Istio's YAML uses (grpc/doc/statuscodes.md), shared by fault
// aborts (grpcStatus: "UNAVAILABLE") and retryOn's gRPC conditions (matched on grpc-status).

export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/**
 * The grpc-status header value ("14") for a name ("UNAVAILABLE") or a number given as text;
 * undefined when it is neither. Istio documents the upper-case name; the number is accepted too.
 */
export function grpcStatusValue(nameOrCode: string): string | undefined {
  // hasOwn: a plain object would also "have" constructor, toString and the like
  if (Object.hasOwn(GRPC_STATUS_CODES, nameOrCode)) return String(GRPC_STATUS_CODES[nameOrCode]);
  return /^(?:\d|1[0-6])$/.test(nameOrCode) ? nameOrCode : undefined;
}
