// The app's HTTP probes, answered by the sidecar. `dietmesh inject` points the kubelet's liveness,
// readiness and startup probes at the admin listener's /app-health/<container>/<livez|readyz|startupz>
// and hands the original probes to the sidecar (`--app-probes`, the shape of Istio's
// ISTIO_KUBE_APP_PROBERS). The sidecar asks the app on 127.0.0.1, so the app may listen on loopback
// only — out of reach of callers that would bypass the sidecar's mTLS and policies.
import type { UpstreamClient } from "../platform/types.ts";
import { formatPath } from "../config/errors.ts";

export const APP_HEALTH_PATH = /^\/app-health\/[^/]+\/(livez|readyz|startupz)$/;

export interface AppProbe {
  httpGet: { path: string; port: number; scheme?: "HTTP"; httpHeaders?: { name: string; value: string }[] };
  timeoutSeconds?: number;
}

// The shape is checked by hand rather than with zod, so a serving sidecar never loads zod (~5 MB).
// The messages are zod's own wording for the same schema (test/admin/app-health.test.ts compares
// them with a zod schema, case by case): the first problem, fields in order, unknown keys last.

type Path = (string | number)[];
class ProbeError extends Error {
  constructor(
    readonly path: Path,
    message: string,
  ) {
    super(message);
  }
}

const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => kind(v) === "object";
function fail(path: Path, message: string): never {
  throw new ProbeError(path, message);
}
function expect(v: unknown, type: string, path: Path): void {
  if (kind(v) !== type) fail(path, `Invalid input: expected ${type}, received ${kind(v)}`);
}
function strict(v: Record<string, unknown>, keys: readonly string[], path: Path): void {
  const unknown = Object.keys(v).filter((k) => !keys.includes(k));
  if (unknown.length) fail(path, `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
}
function integer(v: unknown, path: Path, min: number, max?: number): void {
  expect(v, "number", path);
  if (!Number.isInteger(v)) fail(path, "Invalid input: expected int, received number");
  if ((v as number) < min) fail(path, `Too small: expected number to be >=${min}`);
  if (max !== undefined && (v as number) > max) fail(path, `Too big: expected number to be <=${max}`);
}

function checkProbe(v: unknown, at: Path): AppProbe {
  expect(v, "object", at);
  const probe = v as Record<string, unknown>;
  const get = probe.httpGet;
  expect(get, "object", [...at, "httpGet"]);
  const g = get as Record<string, unknown>;
  const p = (k: string, ...rest: (string | number)[]) => [...at, "httpGet", k, ...rest];
  expect(g.path, "string", p("path"));
  if (!(g.path as string).startsWith("/")) fail(p("path"), "expected a path starting with /");
  integer(g.port, p("port"), 1, 65535);
  if (g.scheme !== undefined && g.scheme !== "HTTP") fail(p("scheme"), "only HTTP probes are answered by the sidecar");
  if (g.httpHeaders !== undefined) {
    expect(g.httpHeaders, "array", p("httpHeaders"));
    (g.httpHeaders as unknown[]).forEach((h, i) => {
      expect(h, "object", p("httpHeaders", i));
      const header = h as Record<string, unknown>;
      expect(header.name, "string", p("httpHeaders", i, "name"));
      if ((header.name as string).length < 1) fail(p("httpHeaders", i, "name"), "Too small: expected string to have >=1 characters");
      expect(header.value, "string", p("httpHeaders", i, "value"));
      strict(header, ["name", "value"], p("httpHeaders", i));
    });
  }
  strict(g, ["path", "port", "scheme", "httpHeaders"], [...at, "httpGet"]);
  if (probe.timeoutSeconds !== undefined) integer(probe.timeoutSeconds, [...at, "timeoutSeconds"], 1);
  strict(probe, ["httpGet", "timeoutSeconds"], at);
  return probe as unknown as AppProbe;
}

/** `{"/app-health/web/livez": {"httpGet": {...}, "timeoutSeconds": 1}}` → probes by path; throws on a bad shape */
export function parseAppProbes(json: string): Map<string, AppProbe> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new Error(`Invalid input: expected record, received ${kind(value)}`);
  try {
    for (const [path, probe] of Object.entries(value)) checkProbe(probe, [path]);
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    throw new Error(error.path.length ? `${formatPath(error.path)}: ${error.message}` : error.message);
  }
  const wrong = Object.keys(value).find((path) => !APP_HEALTH_PATH.test(path));
  if (wrong !== undefined) throw new Error(`${JSON.stringify(wrong)}: expected /app-health/<container>/<livez|readyz|startupz>`);
  return new Map(Object.entries(value as Record<string, AppProbe>));
}

export type AppHealth = (path: string, request: Request) => Promise<Response>;

const answer = (status: number, text: string) => new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/**
 * Answers a probe path with the app's verdict: its status for 2xx and for failures (4xx/5xx); 200
 * for 3xx (the kubelet counts a redirect as success, but following its Location would lead into
 * the admin listener) and for 204/205 (which carry no body); 503 when the app refuses the
 * connection or does not answer within the probe's timeoutSeconds (default 1); 404 for a path no
 * probe was given for.
 */
export function createAppHealth(probes: ReadonlyMap<string, AppProbe>, client: UpstreamClient): AppHealth {
  return async (path, request) => {
    const probe = probes.get(path);
    if (!probe) return answer(404, `no app probe at ${path}\n`);
    const { port, httpHeaders = [] } = probe.httpGet;
    const headers = new Headers({ host: `127.0.0.1:${port}`, "user-agent": request.headers.get("user-agent") ?? "dietmesh-app-prober" });
    for (const h of httpHeaders) headers.set(h.name, h.value);
    const timeoutS = probe.timeoutSeconds ?? 1;
    const signal = AbortSignal.timeout(timeoutS * 1000);
    try {
      const res = await client.send({ url: `http://127.0.0.1:${port}${probe.httpGet.path}`, method: "GET", headers, body: null, signal });
      await res.body?.cancel().catch(() => {});
      const said = `app answered ${res.status}\n`;
      if (res.status === 204 || res.status === 205 || (res.status >= 300 && res.status < 400)) return answer(200, said);
      return res.status >= 200 && res.status <= 599 ? answer(res.status, said) : answer(503, said);
    } catch (error) {
      return answer(503, signal.aborted ? `app did not answer within ${timeoutS}s\n` : `app probe failed: ${(error as Error).message}\n`);
    }
  };
}
