// The app's HTTP probes, answered by the sidecar. `dietmesh inject` points the kubelet's liveness,
// readiness and startup probes at the admin listener's /app-health/<container>/<livez|readyz|startupz>
// and hands the original probes to the sidecar (`--app-probes`, the shape of Istio's
// ISTIO_KUBE_APP_PROBERS). The sidecar asks the app on 127.0.0.1, so the app may listen on loopback
// only — out of reach of callers that would bypass the sidecar's mTLS and policies.
import { z } from "zod";
import type { UpstreamClient } from "../platform/types.ts";
import { formatPath } from "../config/errors.ts";

export const APP_HEALTH_PATH = /^\/app-health\/[^/]+\/(livez|readyz|startupz)$/;

const probeSchema = z.strictObject({
  httpGet: z.strictObject({
    path: z.string().startsWith("/", "expected a path starting with /"),
    port: z.number().int().min(1).max(65535),
    scheme: z.literal("HTTP", "only HTTP probes are answered by the sidecar").optional(),
    httpHeaders: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
  }),
  timeoutSeconds: z.number().int().min(1).optional(),
});
const probesSchema = z.record(z.string(), probeSchema);

export type AppProbe = z.infer<typeof probeSchema>;

/** `{"/app-health/web/livez": {"httpGet": {...}, "timeoutSeconds": 1}}` → probes by path; throws on a bad shape */
export function parseAppProbes(json: string): Map<string, AppProbe> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const parsed = probesSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(issue.path.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message);
  }
  const wrong = Object.keys(parsed.data).find((path) => !APP_HEALTH_PATH.test(path));
  if (wrong !== undefined) throw new Error(`${JSON.stringify(wrong)}: expected /app-health/<container>/<livez|readyz|startupz>`);
  return new Map(Object.entries(parsed.data));
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
