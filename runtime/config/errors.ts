// Config problems as plain data with a stable code, naming file, document, resource and field
// path, plus the one-line form `dietmesh check` and the config watcher print (istioctl analyze style).

export type Severity = "error" | "warning" | "info";

export type ConfigErrorCode =
  | "io" // a path could not be read
  | "yaml-syntax" // the YAML (or JSON) did not parse
  | "schema" // a resource does not have the shape Istio requires
  | "duplicate" // the same kind/namespace/name defined twice
  | "skipped-kind" // not an Istio kind (Service, Deployment, ...): ignored
  | "unvalidated-kind" // Telemetry: kept as written, telemetry-resource.ts reads its access logging
  | "unbuilt-kind" // an Istio kind dietmesh does not build (EnvoyFilter, WasmPlugin, ...): refused
  | "unsupported-field" // a valid Istio field dietmesh accepts but does not act on
  | "unknown-subset" // a route names a subset no DestinationRule defines
  | "unknown-gateway" // a VirtualService names a Gateway that does not exist
  | "unknown-host" // a destination host neither the registry nor a ServiceEntry knows
  | "zero-weight"; // a route's destination weights add up to 0

export interface ConfigError {
  code: ConfigErrorCode;
  severity: Severity;
  /** the file as the user named it (or as found in a named directory) */
  file: string;
  /** 0-based index of the YAML document in the file, like Origin.document; printed 1-based */
  document?: number;
  /** 1-based line of the offending node, when the YAML source is at hand */
  line?: number;
  kind?: string;
  name?: string;
  namespace?: string;
  /** field path in the resource, e.g. spec.http[0].route[1].weight */
  path?: string;
  /** what was wrong and what was expected */
  message: string;
}

const LABEL: Record<Severity, string> = { error: "Error", warning: "Warning", info: "Info" };

/**
 * `Error [schema] VirtualService default/hello-istio (demo/x.yaml, document 1, line 14)
 * spec.http[0].route[0].weight: expected a number, got "abc"` — on one line.
 */
export function formatConfigError(e: ConfigError): string {
  const parts = [`${LABEL[e.severity]} [${e.code}]`];
  if (e.kind) {
    const ns = e.namespace ? `${e.namespace}/` : "";
    parts.push(e.name ? `${e.kind} ${ns}${e.name}` : e.kind);
  }
  const where = [e.file];
  // people count documents from one; the data stays 0-based like Origin
  if (e.document !== undefined) where.push(`document ${e.document + 1}`);
  if (e.line !== undefined) where.push(`line ${e.line}`);
  parts.push(`(${where.join(", ")})`);
  parts.push(e.path ? `${e.path}: ${e.message}` : e.message);
  return parts.join(" ");
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** errors first, then warnings, then info; stable within a severity (load order) */
export function bySeverity(a: ConfigError, b: ConfigError): number {
  return RANK[a.severity] - RANK[b.severity];
}

/** ["spec", "http", 0, "route", 1, "weight"] → "spec.http[0].route[1].weight" */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    // map keys such as header names may hold dots; quote those so the path stays readable
    else if (/^[A-Za-z0-9_-]+$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}
