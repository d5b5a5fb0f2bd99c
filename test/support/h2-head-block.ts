// HTTP/2 requests from the real curl whose header block is exactly what a test of the head limits
// wants (runtime/platform/http2-head-limits.ts): curl's own accept and user-agent are removed, so
// the block is the four pseudo-headers plus ours, counted and sized as the listener counts them.
import { run } from "./mesh.ts";

export interface H2Target {
  /** e.g. http://127.0.0.1:8080 or https://limits.example */
  origin: string;
  /** :authority, sent as curl's Host header */
  authority: string;
  /** curl's flags for the protocol and the connection: --http2-prior-knowledge, --http2 --cacert …, --connect-to … */
  curl: string[];
}

/**
 * curl's -H flags for a GET of path whose header block has `fields` fields (pseudo-headers
 * included) and, when given, exactly `bytes` bytes of names and values (our fields' values
 * padded to it)
 */
export function blockArgs(target: H2Target, path: string, fields: number, bytes?: number): string[] {
  const scheme = target.origin.slice(0, target.origin.indexOf(":"));
  const pseudo: [string, string][] = [[":method", "GET"], [":path", path], [":scheme", scheme], [":authority", target.authority]];
  const ours: [string, string][] = Array.from({ length: fields - pseudo.length }, (_, i) => [`x-f${i}`, String(i)]);
  if (bytes !== undefined) {
    const size = [...pseudo, ...ours].reduce((n, [name, value]) => n + name.length + value.length, 0);
    if (!ours.length || size > bytes) throw new Error(`no block of ${fields} fields has ${bytes} bytes`);
    // spread over our fields: a single field may not pass HPACK's 64 KiB
    const pad = bytes - size;
    ours.forEach((field, i) => (field[1] += "p".repeat(Math.floor(pad / ours.length) + (i < pad % ours.length ? 1 : 0))));
  }
  return ["-H", "Accept:", "-H", "User-Agent:", "-H", `Host: ${target.authority}`, ...ours.flatMap(([name, value]) => ["-H", `${name}: ${value}`])];
}

export interface H2Result {
  /** curl's exit status: 0, or 92 for a stream the server reset */
  code: number;
  /** the HTTP status, or 0 when none came */
  status: number;
  out: string;
}

/** one request over HTTP/2 with that header block */
export async function h2Get(target: H2Target, path: string, fields: number, bytes?: number): Promise<H2Result> {
  const { code, out } = await run("curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "status %{http_code} %{http_version}\\n", ...target.curl, ...blockArgs(target, path, fields, bytes), `${target.origin}${path}`]);
  const status = /status (\d+) (\S+)/.exec(out);
  if (status && status[1] !== "000" && status[2] !== "2") throw new Error(`not HTTP/2 (${status[2]}): ${out}`);
  return { code, status: status ? Number(status[1]) : 0, out };
}
