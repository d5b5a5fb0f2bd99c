// Why a manifest could not be injected, as data with a stable code and the field it is about; the
// command adds the file, document, resource and line (the way `dietmesh check` reports config).
import { formatPath } from "../config/errors.ts";

export type InjectErrorCode =
  | "yaml-syntax" // the YAML (or JSON) did not parse
  | "invalid-field" // a field has the wrong shape (no containers, a port that is not a number, ...)
  | "unknown-port" // a probe names a container port that does not exist
  | "port-conflict" // the app uses a port the sidecar needs
  | "name-conflict"; // a volume or container already has a name the sidecar needs

export type FieldPath = readonly (string | number)[];

export class InjectError extends Error {
  constructor(readonly code: InjectErrorCode, readonly path: FieldPath, message: string) {
    super(message);
  }
}

/** where a problem was found, for the one-line report */
export interface InjectErrorSite {
  file: string;
  /** 0-based; printed 1-based */
  document: number;
  line?: number;
  kind?: string;
  namespace?: string;
  name?: string;
}

/** `Error [unknown-port] Deployment shop/web (web.yaml, document 2, line 31) spec...port: ...` */
export function formatInjectError(error: InjectError, site: InjectErrorSite): string {
  const parts = [`Error [${error.code}]`];
  if (site.kind) parts.push(site.name ? `${site.kind} ${site.namespace ? `${site.namespace}/` : ""}${site.name}` : site.kind);
  const where = [site.file, `document ${site.document + 1}`];
  if (site.line !== undefined) where.push(`line ${site.line}`);
  parts.push(`(${where.join(", ")})`);
  parts.push(error.path.length ? `${formatPath(error.path)}: ${error.message}` : error.message);
  return parts.join(" ");
}
