// Traffic mirroring (VirtualService mirror/mirrors): fire and forget, the mirrored reply is dropped,
// and the copy goes to "<authority>-shadow" as Envoy sends it. A request body is split with tee(),
// so the main request is never held back by the mirror beyond the stream's own buffering.
import type { Mirror } from "../model/route-table.ts";
import type { HttpClient } from "../platform/types.ts";
import { keep } from "../platform/read-buffers.ts";

/** starts mirrored copies; returns the body the main request should now send */
export type MirrorSender = (
  mirrors: readonly Mirror[],
  method: string,
  path: string,
  authority: string,
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
) => ReadableStream<Uint8Array> | null;

export function createMirrorSender(upstream: HttpClient, random: () => number): MirrorSender {
  return function mirror(mirrors, method, path, authority, headers, body) {
    let mainBody = body;
    for (const m of mirrors) {
      if (m.percent < 100 && random() * 100 >= m.percent) continue;
      const host = m.cluster.balancer.pick({});
      if (!host) continue;
      let copy: ReadableStream<Uint8Array> | null = null;
      if (mainBody) [mainBody, copy] = (mainBody === body ? keptChunks(mainBody) : mainBody).tee();
      const shadowHeaders = new Headers(headers);
      shadowHeaders.set("host", shadowAuthority(authority));
      upstream
        .send({ url: `http://${host.address}${path}`, method, headers: shadowHeaders, body: copy })
        .then((r) => r.body?.cancel())
        .catch(() => {});
    }
    return mainBody;
  };
}

/** tee() hands each chunk to both branches: neither writer may reuse its read buffer (read-buffers.ts) */
function keptChunks(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        keep(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
}

function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(":");
  if (colon > 0 && !authority.endsWith("]")) return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  return `${authority}-shadow`;
}
