// Route `directResponse` compiled once: a fixed status and body, answered without an upstream.
import type { HTTPDirectResponse } from "../config/types.ts";

/** statuses whose responses may not carry a body (the Response constructor throws if given one) */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const bin = atob(b64.replace(/\s+/g, ""));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Why this direct response cannot be served, or undefined. */
export function directResponseError(d: HTTPDirectResponse): string | undefined {
  if (!Number.isInteger(d.status) || d.status < 200 || d.status > 599) return `directResponse status ${d.status} is not in 200..599`;
  if (d.body?.string !== undefined && d.body.bytes !== undefined) return "directResponse body takes only one of string, bytes";
  if (d.body?.bytes !== undefined && !decodeBase64(d.body.bytes)) return "directResponse body.bytes is not valid base64";
  return undefined;
}

/**
 * Compiles a direct response into `() => Response`. `body.string` is sent as UTF-8, `body.bytes`
 * is base64 in the YAML (proto JSON bytes) and decoded here, once. A non-empty body gets
 * `content-type: text/plain`, as Envoy's local replies do. Each call returns a fresh Response
 * over the same immutable bytes.
 */
export function compileDirectResponse(d: HTTPDirectResponse): () => Response {
  const status = Number.isInteger(d.status) && d.status >= 200 && d.status <= 599 ? d.status : 500;
  let body: Uint8Array<ArrayBuffer> | null = null;
  if (d.body?.string !== undefined) body = new TextEncoder().encode(d.body.string);
  else if (d.body?.bytes !== undefined) body = decodeBase64(d.body.bytes) ?? null;
  if (body !== null && (body.length === 0 || NULL_BODY.has(status))) body = null;
  const bytes = body;
  if (bytes === null) return () => new Response(null, { status });
  return () => new Response(bytes, { status, headers: { "content-type": "text/plain" } });
}
