// Istio's probe rewrite: an app container's httpGet liveness, readiness and startup probes are
// pointed at the sidecar's status listener (/app-health/<container>/<livez|readyz|startupz>), and the
// originals go to the sidecar (--app-probes), which asks the app on 127.0.0.1. tcpSocket, exec and
// grpc probes, and httpGet probes with a host or over HTTPS, are left as they are.
import type { AppProbe } from "../admin/app-health.ts";
import { PORTS } from "./defaults.ts";
import { InjectError, type FieldPath } from "./errors.ts";
import { isObject, type Obj } from "./pod-template.ts";

const PROBES = [["livenessProbe", "livez"], ["readinessProbe", "readyz"], ["startupProbe", "startupz"]] as const;

/** a probe's port: a number, or the name of one of the container's ports */
function resolvePort(container: Obj, port: unknown, at: FieldPath): number {
  if (typeof port === "number" && Number.isInteger(port) && port > 0 && port < 65536) return port;
  if (typeof port === "string" && /^\d+$/.test(port)) return resolvePort(container, Number(port), at);
  if (typeof port === "string" && port) {
    const ports = Array.isArray(container.ports) ? container.ports : [];
    const named = ports.find((p) => isObject(p) && p.name === port);
    if (isObject(named) && typeof named.containerPort === "number") return named.containerPort;
    throw new InjectError("unknown-port", at, `no port named "${port}" in container "${String(container.name)}"`);
  }
  throw new InjectError("invalid-field", at, `expected a port number (1-65535) or a port name, got ${JSON.stringify(port) ?? "nothing"}`);
}

/**
 * Rewrites the container's HTTP probes in place and returns the originals keyed by their new path,
 * for the sidecar's --app-probes. Timing fields (periodSeconds, failureThreshold, ...) stay on the
 * rewritten probe; the kubelet keeps running it on the same schedule.
 */
export function rewriteProbes(container: Obj, at: FieldPath): Record<string, AppProbe> {
  const out: Record<string, AppProbe> = {};
  for (const [field, suffix] of PROBES) {
    const probe = container[field];
    if (!isObject(probe) || !isObject(probe.httpGet)) continue;
    const get = probe.httpGet;
    const scheme = typeof get.scheme === "string" ? get.scheme.toUpperCase() : "HTTP";
    if (scheme !== "HTTP" || (typeof get.host === "string" && get.host !== "")) continue;
    const port = resolvePort(container, get.port, [...at, field, "httpGet", "port"]);
    const rawPath = typeof get.path === "string" && get.path ? get.path : "/";
    const headers = Array.isArray(get.httpHeaders)
      ? get.httpHeaders.filter(isObject).map((h) => ({ name: String(h.name ?? ""), value: String(h.value ?? "") })).filter((h) => h.name)
      : [];
    const path = `/app-health/${String(container.name)}/${suffix}`;
    out[path] = {
      httpGet: { path: rawPath.startsWith("/") ? rawPath : `/${rawPath}`, port, scheme: "HTTP", ...(headers.length ? { httpHeaders: headers } : {}) },
      timeoutSeconds: typeof probe.timeoutSeconds === "number" ? probe.timeoutSeconds : 1,
    };
    container[field] = { ...probe, httpGet: { path, port: PORTS.status, scheme: "HTTP" } };
  }
  return out;
}
