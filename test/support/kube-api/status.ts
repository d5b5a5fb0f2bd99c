// Errors as the API server reports them: a metav1.Status object with the HTTP code, a reason
// clients switch on (NotFound, AlreadyExists, Conflict, Invalid, Expired, ...) and the same
// messages the real server writes, so kubectl prints what a user would see against a cluster.
import { qualified, type ResourceType } from "./resources.ts";

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** thrown by handlers; the server turns it into the Status response */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

export function failure(code: number, reason: string, message: string, details?: Status["details"]): ApiError {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details) status.details = details;
  return new ApiError(status);
}

const detailsOf = (t: ResourceType, name: string) => (t.group ? { name, group: t.group, kind: t.resource } : { name, kind: t.resource });

export const notFound = (t: ResourceType, name: string) =>
  failure(404, "NotFound", `${qualified(t)} "${name}" not found`, detailsOf(t, name));

export const alreadyExists = (t: ResourceType, name: string) =>
  failure(409, "AlreadyExists", `${qualified(t)} "${name}" already exists`, detailsOf(t, name));

export const conflict = (t: ResourceType, name: string) =>
  failure(409, "Conflict", `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(t, name));

export function invalid(t: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const what = t.custom ? qualified(t) : t.kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const text = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  const details = { name, ...(t.group ? { group: t.group } : {}), kind: t.custom ? t.resource : t.kind, causes };
  return failure(422, "Invalid", `${what} "${name}" is invalid: ${text}`, details);
}

export const required = (field: string): StatusCause => ({ reason: "FieldValueRequired", message: "Required value", field });
export const badValue = (field: string, value: unknown, why: string): StatusCause =>
  ({ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field });

export const badRequest = (message: string) => failure(400, "BadRequest", message);

/** the watch cache (or a continue token) no longer reaches back that far */
export const expired = (message: string) => failure(410, "Expired", message);

export function tooLarge(asked: number, current: number): ApiError {
  return failure(504, "Timeout", `Too large resource version: ${asked}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

export function success(t: ResourceType, name: string, uid: string): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { ...detailsOf(t, name), uid }, code: 200 };
}
